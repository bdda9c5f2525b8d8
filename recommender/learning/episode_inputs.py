"""The episode builder's inputs: CRM columns read into arrays of days and stage codes.

Opportunities, stage changes and events arrive as a mapping of columns, a list of dicts or a
list of records (fields ``OPPORTUNITY_FIELDS``, ``CHANGE_FIELDS``, ``EVENT_FIELDS``). Times
become float days since an epoch (NaN when missing); stage names become buying-stage indexes,
or ``WON_CODE`` / ``LOST_CODE`` for closed stages. Used by ``recommender.learning.episodes``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from recommender.domain import StageConfig, utc_naive
from recommender.errors import ValidationError

WON_CODE, LOST_CODE = -1, -2
NO_STAGE = -99  # a stage change without a from-stage

OPPORTUNITY_FIELDS = ("opportunity_id", "owner", "industry", "persona", "amount", "created_at",
                      "stage", "stage_entered_at", "status", "closed_at")
CHANGE_FIELDS = ("opportunity_id", "from_stage", "to_stage", "changed_at")
EVENT_FIELDS = ("opportunity_id", "asset_id", "event_type", "occurred_at")


def columns(data: Any, names: Sequence[str], what: str) -> dict[str, np.ndarray]:
    """Column arrays from a mapping of columns, a list of dicts or a list of records."""
    if isinstance(data, Mapping):
        missing = [n for n in names if n not in data]
        if missing:
            raise ValidationError(f"{what}: missing column(s) {', '.join(missing)}")
        return {n: np.asarray(data[n], dtype=object) for n in names}
    rows = list(data)
    if rows and isinstance(rows[0], Mapping):
        return {n: np.array([r.get(n) for r in rows], dtype=object) for n in names}
    if rows and isinstance(rows[0], tuple) and not hasattr(rows[0], "_fields"):
        if len(rows[0]) != len(names):
            raise ValidationError(f"{what}: tuples must hold {', '.join(names)}")
        cols = list(zip(*rows, strict=True))
        return {n: np.array(cols[i], dtype=object) for i, n in enumerate(names)}
    return {n: np.array([getattr(r, n, None) for r in rows], dtype=object) for n in names}


def _days(values: np.ndarray, epoch: np.datetime64, what: str) -> np.ndarray:
    """Float days since ``epoch``; None/empty become NaN. Accepts datetimes or ISO strings.

    Aware values (``+02:00``, ``Z``) are converted to naive UTC, Baton's stored form.
    """
    vals = np.array([None if v is None or v == "" else v for v in values], dtype=object)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            stamps = np.asarray(vals, dtype="datetime64[s]")
    except (ValueError, TypeError, DeprecationWarning, UserWarning):
        try:
            stamps = np.array([None if v is None else np.datetime64(utc_naive(
                v if isinstance(v, datetime) else datetime.fromisoformat(str(v))), "s")
                for v in vals], dtype="datetime64[s]")
        except (ValueError, TypeError) as exc:
            raise ValidationError(f"{what}: unreadable timestamp ({exc})") from None
    out = (stamps - epoch).astype("timedelta64[s]").astype(float) / 86400.0
    out[np.isnat(stamps)] = np.nan
    return out


def _codes(names: np.ndarray, stages: StageConfig) -> np.ndarray:
    """Buying-stage index per stage name; WON_CODE / LOST_CODE for terminal stages."""
    buying = stages.buying_stage_names
    uniq, inv = np.unique(np.asarray(names, dtype=str), return_inverse=True)
    codes = np.empty(uniq.size, dtype=np.int64)
    for i, name in enumerate(uniq):
        stage = stages.resolve_buying_stage(name)  # unknown names raise, naming the stage
        if stage is not None:
            codes[i] = buying.index(stage)
        else:
            codes[i] = WON_CODE if stages.pipeline_stage(name).outcome == "won" else LOST_CODE
    return codes[inv]


def index_values(values: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """Sorted distinct names (None as "") and each value's index into them."""
    uniq, inv = np.unique(np.asarray(["" if v is None else str(v) for v in values]),
                          return_inverse=True)
    return tuple(uniq.tolist()), inv.astype(np.int64)


@dataclass
class OpportunityArrays:
    """Per opportunity (shape (n_opp,)): ids, times in days, status and current stage code."""

    ids: np.ndarray
    lookup: dict[str, int]
    created: np.ndarray
    entered: np.ndarray
    closed: np.ndarray
    status: np.ndarray
    current: np.ndarray


@dataclass
class ChangeArrays:
    """Stage changes of known opportunities, sorted by (opportunity, time)."""

    opp: np.ndarray
    time: np.ndarray
    to: np.ndarray
    frm: np.ndarray  # NO_STAGE where the row names no from-stage
    has_from: np.ndarray


@dataclass
class ShareArrays:
    """Timed shares of known assets on known opportunities."""

    opp: np.ndarray
    asset: np.ndarray
    time: np.ndarray
    asset_ids: tuple[str, ...]


def read_opportunities(opp: dict[str, np.ndarray], stages: StageConfig,
                       epoch: np.datetime64) -> OpportunityArrays:
    """Read opportunity columns; a duplicate id raises."""
    opp_ids = np.asarray([str(x) for x in opp["opportunity_id"]], dtype=object)
    n_opp = opp_ids.size
    lookup = {oid: i for i, oid in enumerate(opp_ids)}
    if len(lookup) != n_opp:
        raise ValidationError("opportunities: duplicate opportunity_id")
    return OpportunityArrays(
        ids=opp_ids, lookup=lookup,
        created=_days(opp["created_at"], epoch, "opportunities.created_at"),
        entered=_days(opp["stage_entered_at"], epoch, "opportunities.stage_entered_at"),
        closed=_days(opp["closed_at"], epoch, "opportunities.closed_at"),
        status=np.asarray([str(s or "open").strip().lower() for s in opp["status"]]),
        current=_codes(opp["stage"], stages) if n_opp else np.zeros(0, dtype=np.int64))


def read_changes(chg: dict[str, np.ndarray], lookup: Mapping[str, int], stages: StageConfig,
                 epoch: np.datetime64) -> ChangeArrays:
    """Read stage-change columns, dropping rows of unknown opportunities."""
    c_opp = np.array([lookup.get(str(x), -1) for x in chg["opportunity_id"]], dtype=np.int64)
    keep = c_opp >= 0
    c_opp = c_opp[keep]
    c_time = _days(chg["changed_at"][keep], epoch, "stage_changes.changed_at")
    c_to = _codes(chg["to_stage"][keep], stages) if c_opp.size else c_opp
    c_from_raw = chg["from_stage"][keep]
    has_from = np.array([bool(x and str(x).strip()) for x in c_from_raw], dtype=bool)
    c_from = np.full(c_opp.size, NO_STAGE, dtype=np.int64)
    if has_from.any():
        c_from[has_from] = _codes(c_from_raw[has_from], stages)
    order = np.lexsort((c_time, c_opp))
    return ChangeArrays(c_opp[order], c_time[order], c_to[order], c_from[order],
                        has_from[order])


def read_shares(evt: dict[str, np.ndarray], lookup: Mapping[str, int], epoch: np.datetime64,
                asset_ids: Sequence[str] | None) -> ShareArrays:
    """Read the ``shared`` events; default asset order: the shared assets, sorted."""
    e_type = np.asarray([str(x) for x in evt["event_type"]])
    is_share = e_type == "shared"
    e_opp = np.array([lookup.get(str(x), -1) for x in evt["opportunity_id"][is_share]],
                     dtype=np.int64)
    e_asset_raw = np.asarray([str(x) for x in evt["asset_id"][is_share]])
    e_time = _days(evt["occurred_at"][is_share], epoch, "events.occurred_at")
    ok = (e_opp >= 0) & ~np.isnan(e_time)
    e_opp, e_asset_raw, e_time = e_opp[ok], e_asset_raw[ok], e_time[ok]
    if asset_ids is None:
        asset_ids = tuple(sorted(set(e_asset_raw.tolist())))
    asset_ids = tuple(asset_ids)
    a_lookup = {a: i for i, a in enumerate(asset_ids)}
    e_asset = np.array([a_lookup.get(a, -1) for a in e_asset_raw], dtype=np.int64)
    ok = e_asset >= 0
    return ShareArrays(e_opp[ok], e_asset[ok], e_time[ok], asset_ids)


def now_in_days(now: Any, epoch: np.datetime64, opps: OpportunityArrays, changes: ChangeArrays,
                shares: ShareArrays) -> float:
    """``now`` in days, or the latest time anywhere in the data when ``now`` is None."""
    if now is not None:
        return float(_days(np.array([now], dtype=object), epoch, "now")[0])
    candidates = [a[~np.isnan(a)] for a in (opps.created, opps.entered, opps.closed,
                                             changes.time, shares.time)]
    latest = [a.max() for a in candidates if a.size]
    return float(max(latest)) if latest else 0.0
