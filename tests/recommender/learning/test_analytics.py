"""Marketer analytics maths: verdicts, naive rates, influence rows, gaps, funnel, review."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from recommender.learning.funnel import (
    ADVANCED,
    BACK,
    LOST,
    OPEN,
    StageInfo,
    funnel_rows,
    stage_visits,
)
from recommender.learning.review import (
    ReviewInput,
    csv_safe,
    review_csv,
    review_markdown,
    write_csv,
)

STAGES = ["awareness", "consideration", "decision"]


@dataclass
class Estimate:
    """An EffectEstimate-like record (the learner's output shape)."""

    asset_id: str
    buying_stage: str
    effect: float
    lower: float
    upper: float
    support: int
    segment: str = ""


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


T0 = datetime(2026, 1, 1)
INFOS = {
    "Prospecting": StageInfo("Prospecting", 0, "awareness"),
    "Needs Analysis": StageInfo("Needs Analysis", 1, "consideration"),
    "Proposal": StageInfo("Proposal", 2, "decision"),
    "Closed Won": StageInfo("Closed Won", 3, None, "won"),
    "Closed Lost": StageInfo("Closed Lost", 4, None, "lost"),
}


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def test_stage_visits_and_funnel():
    history = {
        "won": [("Prospecting", day(0)), ("Needs Analysis", day(10)), ("Proposal", day(30)),
                ("Closed Won", day(40))],
        "lost": [("Prospecting", day(0)), ("Needs Analysis", day(20)), ("Closed Lost", day(26))],
        "back": [("Prospecting", day(0)), ("Needs Analysis", day(4)), ("Prospecting", day(6))],
        "closed-no-row": [("Prospecting", day(0))],
    }
    status = {"won": "won", "lost": "lost", "back": "open", "closed-no-row": "lost"}
    visits = stage_visits(history, INFOS, status, {"closed-no-row": day(3)})
    results = {(v.opportunity_id, v.stage, v.entered_at): v.result for v in visits}
    assert results[("won", "Proposal", day(30))] == ADVANCED
    assert results[("lost", "Needs Analysis", day(20))] == LOST
    assert results[("back", "Needs Analysis", day(4))] == BACK
    assert results[("back", "Prospecting", day(6))] == OPEN
    assert results[("closed-no-row", "Prospecting", day(0))] == LOST
    rows = {r.stage: r for r in funnel_rows(visits, list(INFOS.values()), now=day(16))}
    assert list(rows) == ["Prospecting", "Needs Analysis", "Proposal"]
    pro = rows["Prospecting"]
    assert (pro.entered, pro.advanced, pro.lost, pro.open) == (5, 3, 1, 1)
    assert pro.conversion == pytest.approx(3 / 4)
    assert pro.median_days == pytest.approx(7.0)  # finished visits: 10, 20, 4, 3 days
    assert pro.open_median_days == pytest.approx(10.0)  # open since day 6, now day 16
    needs = rows["Needs Analysis"]
    assert (needs.advanced, needs.lost, needs.moved_back) == (1, 1, 1)
    assert rows["Proposal"].conversion == 1.0


@pytest.mark.parametrize("raw", ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_safe_neutralises_formulas(raw):
    assert csv_safe(raw) == "'" + raw


def test_csv_safe_keeps_numbers_and_plain_text():
    assert csv_safe(-0.25) == -0.25 and csv_safe(3) == 3 and csv_safe(None) == ""
    assert csv_safe("Case study") == "Case study"
    text = write_csv([["=cmd|' /C calc'!A0", -0.1]], ["title", "effect"])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["'=cmd|' /C calc'!A0", "-0.1"]


def test_review_markdown_and_csv():
    assets = {"good": AssetInfo("good", "Good | piped", "case_study", "consideration"),
              "bad": AssetInfo("bad", "=evil()", "pricing_sheet", "decision")}
    estimates = [Estimate("good", "consideration", 0.08, 0.02, 0.14, 120),
                 Estimate("bad", "decision", -0.05, -0.09, -0.01, 60)]
    rows = influence_rows(estimates, assets, {}, STAGES)
    cells = gap_cells(assets.values(), STAGES, ["cfo"], ["retail"],
                      {(r.asset_id, r.buying_stage): r.verdict for r in rows})
    data = ReviewInput(stages=STAGES, influence=rows, gaps=cells,
                       requests=[{"need": "ROI calculator for retail CFOs",
                                  "buying_stage": "consideration", "persona": "cfo",
                                  "industry": None}],
                       generated_at=datetime(2026, 7, 1), period="2026 Q2")
    md = review_markdown(data)
    assert md.startswith("# Content review — 2026 Q2")
    assert "## Consideration" in md and "### What worked" in md
    assert "Good \\| piped" in md  # table cells escape pipes
    assert "+8.0%" in md and "Shown to hurt" in md
    assert "ROI calculator for retail CFOs (consideration · cfo · any)" in md
    assert "no asset" in md  # awareness has no asset at all
    table = list(csv.DictReader(io.StringIO(review_csv(data))))
    sections = {r["section"] for r in table}
    assert sections == {"influence", "gap"}
    bad = next(r for r in table if r["asset_id"] == "bad")
    assert bad["title"] == "'=evil()" and bad["verdict"] == HURTS
    assert float(bad["effect"]) == pytest.approx(-0.05)
    untrained = review_markdown(ReviewInput(stages=STAGES, influence=[], gaps=[],
                                            model_trained=False))
    assert "Model not trained" in untrained


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_csv_safe_never_leaves_a_formula_start(text):
    safe = csv_safe(text)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert safe.lstrip("'") == text.lstrip("'") or safe == "'" + text
