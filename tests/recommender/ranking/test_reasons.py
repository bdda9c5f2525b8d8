"""Reasons a rep reads, built from the score components, the effect interval and the rules."""

from __future__ import annotations

from datetime import date

import numpy as np

from recommender.ranking.reasons import reasons_for
from recommender.ranking.scoring import DealContext, score_assets
from tests.recommender.ranking.arrays import STAGES, small_library


def test_reasons_are_built_from_the_components():
    c = small_library(stages=["decision", "consideration"], stage_confidence=[1.0, 0.72],
                      industries=[["logistics"], []])
    deal = DealContext("decision", STAGES, industry="logistics",
                       shared_on={"a0": date(2026, 10, 3)})
    b = score_assets(c, deal, np.zeros(2))
    r0 = reasons_for(c, deal, 0, b, 0.12, 0.05 / 1.0 * 0.9746, rules_fired=["vip"],
                     passage="Customer raised a pricing objection about terms", passage_score=0.5)
    assert r0[0] == "rule: vip"
    assert "fits the decision stage" in r0
    assert "matches the deal notes: 'Customer raised a pricing objection about terms'" in r0
    assert "made for logistics" in r0
    assert "won deals in logistics at this stage used it: +12 pts chance to advance " \
           "(90% CI +4 to +20)" in r0
    assert "already shared on 2026-10-03" in r0
    r1 = reasons_for(c, deal, 1, b, 0.0, 0.05)
    assert any("auto-tagged, 72% confident" in r for r in r1)
    assert "new asset: being explored" in r1


def test_effect_reason_wording_follows_the_interval():
    c = small_library(stages=["decision"])
    deal = DealContext("decision", STAGES)
    b = score_assets(c, deal, np.zeros(1))
    hurt = reasons_for(c, deal, 0, b, -0.10, 0.02)
    worse = "deals that used it at this stage did worse: \u221210 pts"
    assert any(r.startswith(worse) for r in hurt)
    flat = reasons_for(c, deal, 0, b, 0.01, 0.02)
    assert any(r.startswith("no clear effect at this stage yet") for r in flat)
    explored = reasons_for(c, deal, 0, b, 0.0, 0.05, explored=True)
    assert "new asset: being explored" in explored
    assert any(r.startswith("exploration pick") for r in explored)


def test_no_effect_reason_before_any_model_is_trained():
    c = small_library(stages=["decision"])
    deal = DealContext("decision", STAGES)
    b = score_assets(c, deal, np.zeros(1))
    reasons = reasons_for(c, deal, 0, b, 0.0, 0.05, learned=False)
    assert reasons == ["fits the decision stage"]
