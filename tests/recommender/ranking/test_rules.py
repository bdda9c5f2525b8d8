"""Marketer rules: validation with clear errors, conditions, targets and their effects."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.content.library_arrays import LibraryArrays
from recommender.errors import ValidationError
from recommender.ranking.rules import apply_rules, rule_applies, target_mask, validate_rule
from recommender.stage_config import load_stage_config

STAGES = load_stage_config()
DEAL = {"stage": "Proposal/Price Quote", "buying_stage": "decision", "industry": "Logistics",
        "persona": "cfo", "amount": 80000, "products": ["route-optimizer"], "owner": "ana",
        "status": "open", "name": "Northwind renewal", "account": "Northwind"}


def library():
    return LibraryArrays(
        ["cs-1", "roi", "pricing", "blog"], np.eye(4, dtype=np.float32),
        ["consideration", "consideration", "decision", "awareness"],
        ["case_study", "roi_calculator", "pricing_sheet", "blog_post"],
        personas=[["operations"], ["cfo"], ["cfo", "procurement"], []],
        industries=[["logistics"], [], [], []],
        products=[["route-optimizer"], ["route-optimizer"], [], []],
    )


def rule(**kw):
    data = {"name": "r", "condition": [], "action": "boost", "target": {"type": "faq"},
            "weight": 0.5}
    data.update(kw)
    return validate_rule(data, STAGES)


@pytest.mark.parametrize("condition, expected", [
    ({"industry": "logistics"}, True),
    ({"industry": "retail"}, False),
    ({"industry": ["retail", "LOGISTICS "]}, True),
    ({"amount": {"gte": 50000, "lte": 100000}}, True),
    ({"amount": {"gte": 100000}}, False),
    ({"product": "route-optimizer"}, True),
    ({"product": "fleet-telematics"}, False),
    ({"name": {"contains": "renewal"}}, True),
    ({"stage": {"gte": "Needs Analysis"}}, True),
    ({"stage": {"lte": "Needs Analysis"}}, False),
    ({"buying_stage": "decision", "owner": "ana"}, True),
    ([{"field": "persona", "op": "in", "value": ["cfo", "cio"]}], True),
    ({"all": [{"field": "status", "op": "eq", "value": "won"}]}, False),
    ([], True),
])
def test_conditions_on_crm_fields(condition, expected):
    assert rule_applies(rule(condition=condition), DEAL, STAGES) is expected


def test_amount_condition_is_false_when_the_deal_has_no_amount():
    assert not rule_applies(rule(condition={"amount": {"gte": 1}}), {**DEAL, "amount": None})


@pytest.mark.parametrize("target, expected", [
    ({"asset_id": "roi"}, ["roi"]),
    ({"asset_id": ["roi", "blog", "missing"]}, ["roi", "blog"]),
    ({"type": "case_study"}, ["cs-1"]),
    ({"stage": "consideration"}, ["cs-1", "roi"]),
    ({"persona": "cfo"}, ["roi", "pricing"]),
    ({"industry": "logistics"}, ["cs-1"]),
    ({"product": "route-optimizer", "persona": "cfo"}, ["roi"]),
])
def test_targets_by_asset_or_tag(target, expected):
    c = library()
    mask = target_mask(rule(target=target), c)
    assert c.asset_ids[mask].tolist() == expected


def test_apply_rules_include_boost_exclude_and_names():
    c = library()
    rules = [
        rule(name="cfo boost", condition={"persona": "cfo"}, target={"persona": "cfo"},
             weight=0.8),
        rule(name="always roi", action="include", target={"asset_id": "roi"}),
        rule(name="no pricing", action="exclude", target={"type": "pricing_sheet"}),
        rule(name="retail only", action="include", condition={"industry": "retail"},
             target={"asset_id": "blog"}),
        rule(name="inactive", action="exclude", target={"asset_id": "roi"}, active=False),
    ]
    fx = apply_rules(rules, DEAL, c, STAGES)
    assert fx.boost.tolist() == [0.0, 0.8, 0.8, 0.0]
    assert fx.include.tolist() == [False, True, False, False]
    assert fx.exclude.tolist() == [False, False, True, False]
    assert fx.names_for(1) == ["cfo boost", "always roi"]
    assert fx.names_for(3) == []


def test_exclude_wins_over_include():
    c = library()
    fx = apply_rules([rule(name="in", action="include", target={"asset_id": "roi"}),
                      rule(name="out", action="exclude", target={"asset_id": "roi"})], DEAL, c)
    assert not fx.include[1] and fx.exclude[1]


@pytest.mark.parametrize("changes, message", [
    ({"name": ""}, "'name' is required"),
    ({"action": "promote"}, "action: 'promote' is not one of include, boost, exclude"),
    ({"condition": [{"field": "colour", "op": "eq", "value": "red"}]},
     "condition[0].field: unknown field 'colour'"),
    ({"condition": [{"field": "industry", "op": "like", "value": "x"}]},
     "condition[0].op: unknown op 'like'"),
    ({"condition": {"amount": {"gte": "lots"}}}, "condition[0].value: amount needs a number"),
    ({"condition": {"industry": {"gte": "a"}}}, "'gte' applies to amount, stage"),
    ({"condition": {"stage": "Signed"}}, "unknown stage 'Signed'"),
    ({"condition": [{"field": "industry", "op": "in", "value": []}]}, "'in' needs a non-empty"),
    ({"condition": [{"field": "industry"}]}, "needs 'field', 'op' and 'value'"),
    ({"target": {}}, "target: needs one or more of"),
    ({"target": {"colour": "red"}}, "target: unknown key 'colour'"),
    ({"target": {"type": "novel"}}, "target.type: unknown type 'novel'"),
    ({"target": {"stage": "closing"}}, "unknown stage 'closing'"),
    ({"weight": "heavy"}, "weight: must be a number"),
    ({"weight": 0}, "a boost needs a non-zero weight"),
    ({"weight": 50}, "within \u00b110"),
    ({"extra": 1}, "unknown keys extra"),
])
def test_invalid_rules_name_what_and_where(changes, message):
    data = {"name": "my rule", "condition": [], "action": "boost", "target": {"type": "faq"},
            "weight": 0.5, **changes}
    with pytest.raises(ValidationError) as info:
        validate_rule(data, STAGES)
    assert message in str(info.value)
    if changes.get("name", "x"):
        assert "'my rule'" in str(info.value)


def test_canonical_form_round_trips():
    spec = rule(name="x", condition={"industry": "logistics", "amount": {"gte": 5}},
                target={"type": ["case_study", "faq"]})
    again = validate_rule(spec.to_dict(), STAGES)
    assert again == spec
    assert spec.to_dict()["condition"] == {"all": [
        {"field": "industry", "op": "eq", "value": "logistics"},
        {"field": "amount", "op": "gte", "value": 5.0}]}
