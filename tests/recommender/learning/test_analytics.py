"""Marketer analytics maths: verdicts, naive rates, influence rows and gaps."""

from __future__ import annotations

import pytest

from recommender.learning.analytics import (
    HELPS,
    HURTS,
    NO_ASSET,
    NO_EVIDENCE,
    NONE_HELPS,
    NOT_ENOUGH,
    UNKNOWN,
    AssetInfo,
    NaiveRate,
    gap_cells,
    influence_rows,
    naive_rates,
    verdict,
)
from tests.recommender.learning.estimates import STAGES, Estimate


@pytest.mark.parametrize(("lower", "upper", "support", "expected"), [
    (0.01, 0.2, 50, HELPS),
    (-0.2, -0.01, 50, HURTS),
    (-0.1, 0.1, 50, NO_EVIDENCE),
    (0.05, 0.2, 5, NOT_ENOUGH),
    (None, None, 500, NOT_ENOUGH),
    (0.0, 0.1, 50, NO_EVIDENCE),  # touching zero is not above it
])
def test_verdict_reads_the_interval_and_support(lower, upper, support, expected):
    assert verdict(lower, upper, support, min_support=20) == expected


def test_naive_rates_count_closed_deals_with_and_without_the_asset():
    shared = [("o1", "a", "decision"), ("o1", "a", "decision"), ("o2", "a", "decision"),
              ("o3", "b", "decision"), ("o5", "a", "decision")]
    reached = {"o1": {"decision"}, "o2": {"decision"}, "o3": {"decision"},
               "o4": {"decision", "awareness"}, "o5": {"decision"}}
    outcomes = {"o1": "won", "o2": "lost", "o3": "won", "o4": "won", "o5": "open"}
    rates = naive_rates(shared, reached, outcomes)
    a = rates[("a", "decision")]
    assert (a.won_used, a.closed_used) == (1, 2)  # o1 won, o2 lost; o5 open is ignored
    assert (a.won_not_used, a.closed_not_used) == (2, 2)  # o3, o4
    assert a.used == 0.5 and a.not_used == 1.0
    assert ("a", "awareness") not in rates
    assert NaiveRate().used is None


def test_influence_rows_join_estimates_assets_and_naive_rates():
    assets = {
        "good": AssetInfo("good", "Good case study", "case_study", "consideration"),
        "bad": AssetInfo("bad", "Pricing too early", "pricing_sheet", "decision"),
        "new": AssetInfo("new", "Brand new", "ebook", "awareness"),
        "gone": AssetInfo("gone", "Archived", "ebook", "awareness", recommendable=False),
    }
    estimates = [
        Estimate("good", "consideration", 0.08, 0.02, 0.14, 120),
        Estimate("bad", "consideration", -0.05, -0.09, -0.01, 60),
        Estimate("good", "consideration", 0.2, 0.1, 0.3, 40, segment="industry=retail"),
    ]
    naive = {("good", "consideration"): NaiveRate(30, 40, 10, 60)}
    rows = influence_rows(estimates, assets, naive, STAGES, min_support=20)
    by_key = {(r.asset_id, r.buying_stage): r for r in rows}
    assert by_key[("good", "consideration")].verdict == HELPS
    assert by_key[("good", "consideration")].win_rate_used == pytest.approx(0.75)
    assert by_key[("good", "consideration")].deals_used == 40
    assert by_key[("bad", "consideration")].verdict == HURTS
    assert "lowers" in by_key[("bad", "consideration")].explanation
    # An asset never shared still appears at its own stage, with no estimate.
    assert by_key[("new", "awareness")].verdict == NOT_ENOUGH
    assert by_key[("new", "awareness")].effect is None
    # Non-recommendable assets without estimates are left out; segments only on request.
    assert ("gone", "awareness") not in by_key
    assert all(not r.segment for r in rows)
    assert [r.buying_stage for r in rows] == sorted((r.buying_stage for r in rows),
                                                    key=STAGES.index)
    with_segments = influence_rows(estimates, assets, naive, STAGES, include_segments=True)
    assert any(r.segment == "industry=retail" for r in with_segments)
    only = influence_rows(estimates, assets, naive, STAGES, stage="decision")
    assert {r.buying_stage for r in only} == {"decision"}


def test_influence_rows_without_a_model_say_so():
    assets = {"x": AssetInfo("x", "X", "ebook", "awareness")}
    rows = influence_rows(None, assets, {}, STAGES, not_trained_reason="model not trained")
    assert len(rows) == 1 and rows[0].verdict == NOT_ENOUGH
    assert rows[0].explanation == "model not trained"


def test_influence_accepts_mappings_too():
    rows = influence_rows([{"asset_id": "m", "buying_stage": "decision", "effect": 0.1,
                            "lower": 0.05, "upper": 0.15, "support": 99}], {}, {}, STAGES)
    assert rows[0].verdict == HELPS and rows[0].title == ""


def test_gap_cells_find_missing_and_unhelpful_cells_and_count_requests():
    assets = [
        AssetInfo("generic", stage="awareness"),  # serves every persona × industry
        AssetInfo("cfo-retail", stage="decision", personas=("cfo",), industries=("retail",)),
        AssetInfo("cio", stage="decision", personas=("cio",)),
        AssetInfo("expired", stage="consideration", recommendable=False),
    ]
    verdicts = {("generic", "awareness"): HELPS, ("cfo-retail", "decision"): NO_EVIDENCE,
                ("cio", "decision"): HELPS}
    requests = [("consideration", "cfo", "retail"), ("consideration", None, None),
                (None, "cio", "retail")]
    deals = [("consideration", "cfo", "retail"), ("consideration", "cfo", "retail")]
    cells = gap_cells(assets, STAGES, ["cfo", "cio"], ["retail", "logistics"], verdicts,
                      requests, deals)
    key = {(c.buying_stage, c.persona, c.industry): c for c in cells}
    assert all(c.buying_stage != "awareness" for c in cells)  # generic helps everywhere
    consider = key[("consideration", "cfo", "retail")]
    assert consider.status == NO_ASSET  # the only asset is expired
    assert consider.open_requests == 2 and consider.open_opportunities == 2
    assert key[("consideration", "cio", "retail")].open_requests == 2  # wildcard rows
    assert key[("decision", "cfo", "retail")].status == NONE_HELPS
    assert key[("decision", "cfo", "retail")].tailored_count == 1
    assert key[("decision", "cfo", "logistics")].status == NO_ASSET
    assert ("decision", "cio", "retail") not in key  # covered by a helping asset
    assert cells[0].status == NO_ASSET and cells[0] is consider  # most demand first
    everything = gap_cells(assets, STAGES, ["cfo", "cio"], ["retail", "logistics"], verdicts,
                           include_covered=True)
    assert len(everything) == 3 * 2 * 2
    assert key[("decision", "cfo", "logistics")].is_gap


def test_gap_cells_without_a_model_only_flag_empty_cells():
    cells = gap_cells([AssetInfo("a", stage="awareness")], STAGES, ["cfo"], ["retail"], None,
                      include_covered=True)
    status = {c.buying_stage: c.status for c in cells}
    assert status == {"awareness": UNKNOWN, "consideration": NO_ASSET, "decision": NO_ASSET}
