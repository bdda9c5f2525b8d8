"""Marketer rules as data: "for deals where <condition>, include / boost / exclude <target>".

A rule is a plain dict (stored as JSON, edited through the API, UI or ``baton rules add``)::

    name: Logistics CFOs see the ROI calculator
    condition:                      # all clauses must hold; empty = every deal
      - {field: industry, op: eq, value: logistics}
      - {field: amount, op: gte, value: 50000}
    action: boost                   # include (always show) | boost (add weight) | exclude (never)
    target: {type: roi_calculator}  # asset_id, or tags: type / stage / persona / industry / product
    weight: 0.8                     # boost only; added to the score (on the scale of
                                    # ``recommender.ranking.scoring``: stage fit is 0..1)

``condition`` also accepts the shorthand ``{industry: logistics, amount: {gte: 50000}}`` (a scalar
means ``eq``, a list ``in``). Fields: ``stage`` (pipeline stage), ``buying_stage``, ``industry``,
``persona``, ``amount``, ``product``, ``owner``, ``status``, ``account``, ``name``. Ops: ``eq``,
``in``, ``gte``, ``lte``, ``contains``; ``gte``/``lte`` compare amounts as numbers and stages by
their order in the pipeline / buyer's journey. Text compares trimmed and case-insensitively. A
target with several keys must match all of them; a list value matches any of its items. When an
include and an exclude both hit one asset, exclude wins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np

from recommender.content.library_arrays import LibraryArrays
from recommender.domain import ASSET_TYPES, StageConfig, normalize_name
from recommender.errors import UnknownStageError, ValidationError

ACTIONS = ("include", "boost", "exclude")
OPS = ("eq", "in", "gte", "lte", "contains")
TEXT_FIELDS = ("stage", "buying_stage", "industry", "persona", "owner", "status", "account",
               "name")
FIELDS = (*TEXT_FIELDS, "amount", "product")
TARGET_KEYS = ("asset_id", "type", "stage", "persona", "industry", "product")
_TARGET_DIMENSION = {"persona": "personas", "industry": "industries", "product": "products"}
MAX_WEIGHT = 10.0


@dataclass(frozen=True)
class Clause:
    """One test on a CRM field."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class RuleSpec:
    """A validated rule. ``condition`` holds its clauses; ``target`` maps keys to value lists."""

    name: str
    action: str
    condition: tuple[Clause, ...] = ()
    target: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    weight: float = 0.0
    active: bool = True

    def to_dict(self) -> dict:
        """Return the canonical JSON-able form (what is stored)."""
        return {
            "name": self.name,
            "condition": {"all": [{"field": c.field, "op": c.op, "value": c.value}
                                  for c in self.condition]},
            "action": self.action,
            "target": {k: list(v) if len(v) > 1 else v[0] for k, v in self.target.items()},
            "weight": self.weight,
            "active": self.active,
        }


def _fail(where: str, message: str) -> NoReturn:
    raise ValidationError(f"{where}: {message}")


def _clauses(raw, where: str) -> list[dict]:
    if raw is None or raw == {} or raw == []:
        return []
    if isinstance(raw, Mapping) and set(raw) == {"all"}:
        raw = raw["all"]
    if isinstance(raw, list):
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping) or not {"field", "op", "value"} <= set(item):
                _fail(f"{where}[{i}]", "each clause needs 'field', 'op' and 'value'")
            extra = set(item) - {"field", "op", "value"}
            if extra:
                _fail(f"{where}[{i}]", f"unknown keys {', '.join(sorted(extra))}")
        return [dict(item) for item in raw]
    if isinstance(raw, Mapping):  # shorthand {field: value | [values] | {op: value}}
        out: list[dict] = []
        for key, value in raw.items():
            if isinstance(value, Mapping):
                if not value:
                    _fail(f"{where}.{key}", "needs at least one op")
                out.extend({"field": key, "op": op, "value": v} for op, v in value.items())
            elif isinstance(value, list):
                out.append({"field": key, "op": "in", "value": value})
            else:
                out.append({"field": key, "op": "eq", "value": value})
        return out
    _fail(where, "must be a list of clauses or a mapping of field to value")


def _check_stage(value: str, fieldname: str, stages: StageConfig | None, where: str) -> str:
    if stages is None:
        return str(value)
    try:
        if fieldname == "buying_stage":
            return stages.buying_stage(str(value))
        return stages.pipeline_stage(str(value)).name
    except UnknownStageError as exc:
        _fail(where, str(exc))


def _clause(raw: dict, where: str, stages: StageConfig | None) -> Clause:
    name, op, value = str(raw["field"]).strip(), str(raw["op"]).strip(), raw["value"]
    if name == "products":
        name = "product"
    if name not in FIELDS:
        _fail(f"{where}.field", f"unknown field {name!r}; expected one of {', '.join(FIELDS)}")
    if op not in OPS:
        _fail(f"{where}.op", f"unknown op {op!r}; expected one of {', '.join(OPS)}")
    if op == "in":
        if not isinstance(value, list) or not value:
            _fail(f"{where}.value", "'in' needs a non-empty list")
        items = list(value)
    else:
        if isinstance(value, (list, dict)) or value is None:
            _fail(f"{where}.value", f"'{op}' needs a single value")
        items = [value]
    if name == "amount":
        if op == "contains":
            _fail(f"{where}.op", "'contains' does not apply to amount")
        numbers = []
        for item in items:
            if isinstance(item, bool):
                _fail(f"{where}.value", f"amount needs a number, got {item!r}")
            try:
                number = float(item)
            except (TypeError, ValueError):
                number = math.nan
            if not math.isfinite(number):
                _fail(f"{where}.value", f"amount needs a number, got {item!r}")
            numbers.append(number)
        items = numbers
    else:
        if op in ("gte", "lte") and name not in ("stage", "buying_stage"):
            _fail(f"{where}.op", f"'{op}' applies to amount, stage and buying_stage only")
        items = [str(i).strip() for i in items]
        if any(not i for i in items):
            _fail(f"{where}.value", "values must not be empty")
        if name in ("stage", "buying_stage") and op != "contains":
            items = [_check_stage(i, name, stages, f"{where}.value") for i in items]
    return Clause(name, op, items if op == "in" else items[0])


def validate_rule(data: Mapping, stages: StageConfig | None = None) -> RuleSpec:
    """Validate a rule dict and return its ``RuleSpec``; errors name the rule and the key.

    ``stages`` (optional) checks stage names in conditions and targets.
    """
    if not isinstance(data, Mapping):
        raise ValidationError("a rule must be a mapping with name, condition, action, target")
    name = str(data.get("name") or "").strip()
    if not name:
        raise ValidationError("rule: 'name' is required")
    where = f"rule {name!r}"
    unknown = set(data) - {"id", "name", "condition", "action", "target", "weight", "active",
                           "created_by", "created_at", "updated_at"}
    if unknown:
        _fail(where, f"unknown keys {', '.join(sorted(unknown))}")
    action = str(data.get("action") or "").strip()
    if action not in ACTIONS:
        _fail(f"{where}.action", f"{action!r} is not one of {', '.join(ACTIONS)}")
    condition = tuple(_clause(c, f"{where}.condition[{i}]", stages)
                      for i, c in enumerate(_clauses(data.get("condition"), f"{where}.condition")))
    target_raw = data.get("target")
    if not isinstance(target_raw, Mapping) or not target_raw:
        _fail(f"{where}.target", f"needs one or more of {', '.join(TARGET_KEYS)}")
    target: dict[str, tuple[str, ...]] = {}
    for key, value in target_raw.items():
        if key not in TARGET_KEYS:
            _fail(f"{where}.target", f"unknown key {key!r}; expected {', '.join(TARGET_KEYS)}")
        values = value if isinstance(value, list) else [value]
        values = [str(v).strip() for v in values if v is not None and str(v).strip()]
        if not values:
            _fail(f"{where}.target.{key}", "needs a value")
        if key == "type":
            bad = [v for v in values if v not in ASSET_TYPES]
            if bad:
                _fail(f"{where}.target.type", f"unknown type {bad[0]!r}")
        if key == "stage" and stages is not None:
            values = [_check_stage(v, "buying_stage", stages, f"{where}.target.stage")
                      for v in values]
        target[key] = tuple(values)
    raw_weight = data.get("weight")
    if action == "boost" and raw_weight is None:
        raw_weight = 0.5
    try:
        weight = float(raw_weight or 0.0)
    except (TypeError, ValueError):
        _fail(f"{where}.weight", f"must be a number, got {raw_weight!r}")
    if not math.isfinite(weight) or abs(weight) > MAX_WEIGHT:
        _fail(f"{where}.weight", f"must be a finite number within ±{MAX_WEIGHT:g}")
    if action == "boost" and weight == 0:
        _fail(f"{where}.weight", "a boost needs a non-zero weight")
    active = data.get("active", True)
    if not isinstance(active, bool):
        _fail(f"{where}.active", "must be true or false")
    return RuleSpec(name, action, condition, target, weight, active)


def _order(value: str, fieldname: str, stages: StageConfig | None) -> int | None:
    if stages is None:
        return None
    try:
        if fieldname == "buying_stage":
            return stages.buying_stage_names.index(stages.buying_stage(value))
        return stages.pipeline_stage(value).order
    except (UnknownStageError, ValueError):
        return None


def _holds(clause: Clause, deal: Mapping, stages: StageConfig | None) -> bool:
    if clause.field == "amount":
        amount = deal.get("amount")
        if amount is None:
            return False
        amount = float(amount)
        if clause.op == "eq":
            return amount == clause.value
        if clause.op == "in":
            return amount in clause.value
        return amount >= clause.value if clause.op == "gte" else amount <= clause.value
    if clause.field == "product":
        have = {normalize_name(p) for p in deal.get("products") or []}
        wanted = clause.value if clause.op == "in" else [clause.value]
        if clause.op == "contains":
            return any(normalize_name(str(clause.value)) in p for p in have)
        return any(normalize_name(str(w)) in have for w in wanted)
    value = normalize_name(str(deal.get(clause.field) or ""))
    if clause.op == "contains":
        return normalize_name(str(clause.value)) in value
    if clause.op == "eq":
        return value == normalize_name(str(clause.value))
    if clause.op == "in":
        return value in {normalize_name(str(v)) for v in clause.value}
    mine = _order(str(deal.get(clause.field) or ""), clause.field, stages)
    theirs = _order(str(clause.value), clause.field, stages)
    if mine is None or theirs is None:
        return False
    return mine >= theirs if clause.op == "gte" else mine <= theirs


def rule_applies(rule: RuleSpec, deal: Mapping, stages: StageConfig | None = None) -> bool:
    """Return True when the rule is active and every clause holds for the deal's CRM fields."""
    return rule.active and all(_holds(c, deal, stages) for c in rule.condition)


def target_mask(rule: RuleSpec, library: LibraryArrays) -> np.ndarray:
    """Return (n,) bool: the assets the rule's target designates."""
    mask = np.ones(len(library), dtype=bool)
    for key, values in rule.target.items():
        if key == "asset_id":
            hit = np.zeros(len(library), dtype=bool)
            idx = [library.position[v] for v in values if v in library.position]
            hit[idx] = True
        elif key == "type":
            hit = np.isin(library.types, list(values))
        elif key == "stage":
            hit = np.isin(library.stages, list(values))
        else:
            hit = library.tag_mask(_TARGET_DIMENSION[key], values)
        mask &= hit
    return mask


@dataclass
class RuleEffects:
    """What the rules do to the ranking: (n,) ``boost``, ``include``, ``exclude`` arrays and the
    include/boost rules that fired, each with its (n,) target mask."""

    boost: np.ndarray
    include: np.ndarray
    exclude: np.ndarray
    fired: list[tuple[str, np.ndarray]]

    def names_for(self, i: int) -> list[str]:
        """Return the names of the include/boost rules that fired on asset ``i``."""
        return [name for name, mask in self.fired if mask[i]]


def apply_rules(rules: Sequence[RuleSpec], deal: Mapping, library: LibraryArrays,
                stages: StageConfig | None = None) -> RuleEffects:
    """Evaluate ``rules`` for a deal (its CRM fields) against the library.

    Parameters
    ----------
    rules : sequence of RuleSpec
    deal : mapping
        CRM fields: stage, buying_stage, industry, persona, amount, products, owner, ...
    library : LibraryArrays (n assets)
    stages : StageConfig, optional
        Needed for ``gte``/``lte`` on stages.
    """
    n = len(library)
    boost, include, exclude = np.zeros(n), np.zeros(n, bool), np.zeros(n, bool)
    fired: list[tuple[str, np.ndarray]] = []
    for rule in rules:
        if not rule_applies(rule, deal, stages):
            continue
        mask = target_mask(rule, library)
        if rule.action == "exclude":
            exclude |= mask
            continue
        if rule.action == "include":
            include |= mask
        else:
            boost[mask] += rule.weight
        fired.append((rule.name, mask))
    include &= ~exclude
    return RuleEffects(boost, include, exclude, fired)
