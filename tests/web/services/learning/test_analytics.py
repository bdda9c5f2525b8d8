"""Analytics services on a real database: influence, gaps, funnel, review, policy evaluation."""

from __future__ import annotations

import csv
import io

import pytest

from models import Asset
from recommender.errors import NotFittedError, UnknownStageError, ValidationError
from recommender.learning.analytics import (
    HELPS,
    HURTS,
    NO_ASSET,
    NO_EVIDENCE,
    NONE_HELPS,
    NOT_ENOUGH,
    UNKNOWN,
)
from tests.support.analytics_data import MODEL_EFFECTS, FittedEffects, add_logged_lists, add_world
from web.services.learning import analytics


@pytest.fixture
def trained(monkeypatch):
    model = FittedEffects(MODEL_EFFECTS)
    monkeypatch.setattr(analytics, "current_model", lambda baton: model)
    return model


@pytest.fixture
def untrained(monkeypatch):
    monkeypatch.setattr(analytics, "current_model", lambda baton: None)


@pytest.fixture
def world(baton):
    with baton.session() as session:
        add_world(session)
    return baton


def test_influence_without_a_model_says_train_first(world, untrained):
    with world.session() as session:
        rows = analytics.influence(world, session)
    assert rows and all(r.verdict == NOT_ENOUGH for r in rows)
    assert all("run baton train" in r.explanation for r in rows)
    assert "old" not in {r.asset_id for r in rows}  # expired: not recommendable


def test_influence_with_a_model_gives_verdicts_and_naive_rates(world, trained):
    with world.session() as session:
        rows = analytics.influence(world, session)
    by_key = {(r.asset_id, r.buying_stage): r for r in rows}
    assert by_key[("roi", "consideration")].verdict == HELPS
    assert by_key[("decoy", "consideration")].verdict == NO_EVIDENCE
    assert by_key[("case", "consideration")].verdict == NOT_ENOUGH  # support 8 < 20
    assert by_key[("pricing", "decision")].verdict == HURTS
    assert by_key[("blog", "awareness")].effect is None
    # Naive: decoy shared on w1, w2 (won) and o1 (open): 100% "win rate when used".
    decoy = by_key[("decoy", "consideration")]
    assert decoy.win_rate_used == 1.0 and decoy.deals_used == 2
    assert decoy.win_rate_not_used == 0.0  # l1, l2 reached consideration without it, lost
    roi = by_key[("roi", "consideration")]
    assert roi.win_rate_used == 0.5 and roi.win_effect == pytest.approx(0.045)
    assert all(not r.segment for r in rows)


def test_influence_stage_filter_accepts_pipeline_names_and_rejects_unknown(world, trained):
    with world.session() as session:
        rows = analytics.influence(world, session, stage="  needs analysis ")
        assert {r.buying_stage for r in rows} == {"consideration"}
        with pytest.raises(UnknownStageError, match="nowhere"):
            analytics.influence(world, session, stage="nowhere")
        with pytest.raises(ValidationError, match="closed stage"):
            analytics.influence(world, session, stage="Closed Won")


def test_gaps_work_without_a_model(world, untrained):
    with world.session() as session:
        session.get(Asset, "blog").status = "archived"
        session.commit()
        cells = analytics.gaps(world, session)
        every = analytics.gaps(world, session, include_covered=True)
    # Generic assets serve every consideration and decision cell; awareness has none left.
    assert cells and {c.buying_stage for c in cells} == {"awareness"}
    assert all(c.status == NO_ASSET for c in cells)
    o2 = next(c for c in cells if (c.persona, c.industry) == ("security", "healthcare"))
    assert o2.open_opportunities == 1
    assert {c.status for c in every if c.buying_stage != "awareness"} == {UNKNOWN}


def test_gaps_with_a_model_flag_cells_without_a_helping_asset(world, trained):
    with world.session() as session:
        cells = analytics.gaps(world, session)
        covered = analytics.gaps(world, session, include_covered=True)
    key = {(c.buying_stage, c.persona, c.industry): c for c in cells}
    request_cell = key[("decision", "security", "healthcare")]
    assert request_cell.status == NONE_HELPS and request_cell.open_requests == 1
    assert ("consideration", "cfo", "retail") not in key  # roi helps cfo everywhere
    assert key[("consideration", "operations", "retail")].status == NONE_HELPS
    assert key[("awareness", "security", "healthcare")].open_opportunities == 1  # o2
    assert len(covered) == 3 * len(world.stages.personas) * len(world.stages.industries)


def test_funnel_from_stage_history(world):
    with world.session() as session:
        rows = {r.stage: r for r in analytics.funnel(world, session)}
    assert rows["Prospecting"].entered == 6 and rows["Prospecting"].advanced == 5
    assert rows["Prospecting"].open == 1
    needs = rows["Needs Analysis"]
    assert (needs.entered, needs.advanced, needs.lost, needs.open) == (5, 2, 2, 1)
    assert needs.conversion == 0.5
    assert rows["Proposal/Price Quote"].median_days == pytest.approx(10.0)


def test_quarterly_review_markdown_and_safe_csv(world, trained):
    with world.session() as session:
        markdown, csv_text = analytics.quarterly_review(world, session, period="2026 Q1")
    assert markdown.startswith("# Content review — 2026 Q1")
    assert "Security FAQ for hospitals" in markdown and "Done already" not in markdown
    assert "## Funnel and time in stage" in markdown
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    roi = next(r for r in rows if r["asset_id"] == "roi" and r["section"] == "influence")
    assert roi["title"].startswith("'=")  # formula neutralised
    assert roi["verdict"] == HELPS


def test_evaluate_policy_recovers_the_target_value(baton, trained):
    with baton.session() as session:
        add_world(session)
        logging_truth = add_logged_lists(session)
        report = analytics.evaluate_policy(baton, session, interval="normal")
    res = report.result
    assert res.n_lists == 300 and res.n_clusters == 60
    for est in res.estimates:
        assert est.lower < 1.0 < est.upper or est.value == pytest.approx(1.0), est
    assert res.estimate("snips").value == pytest.approx(1.0)
    assert res.logging.lower < logging_truth < res.logging.upper
    data = report.to_dict()
    assert data["reward"] == "engaged" and data["model_version"] == "effects-test"


def test_evaluate_policy_errors_are_clear(baton, untrained, monkeypatch):
    with baton.session() as session:
        with pytest.raises(NotFittedError, match="baton train"):
            analytics.evaluate_policy(baton, session)
        monkeypatch.setattr(analytics, "current_model", lambda b: FittedEffects(MODEL_EFFECTS))
        with pytest.raises(ValidationError, match="no logged recommended events"):
            analytics.evaluate_policy(baton, session)
        with pytest.raises(ValidationError, match="reward"):
            analytics.evaluate_policy(baton, session, reward="clicks")


def test_influence_on_any_database(any_db_baton, monkeypatch):
    monkeypatch.setattr(analytics, "current_model",
                        lambda b: FittedEffects(MODEL_EFFECTS))
    runtime = any_db_baton
    with runtime.session() as session:
        add_world(session)
        rows = analytics.influence(runtime, session, stage="consideration")
        cells = analytics.gaps(runtime, session)
    assert {r.asset_id: r.verdict for r in rows}["roi"] == HELPS
    assert any(c.open_requests for c in cells)


def test_evaluate_policy_with_a_custom_target_needs_no_model(baton, untrained):
    def uniform(stage, candidates, k, context):
        """uniform over the stage's logged assets"""
        return {a: k / len(candidates) for a in candidates}

    with baton.session() as session:
        add_world(session)
        logging_truth = add_logged_lists(session)
        report = analytics.evaluate_policy(baton, session, target=uniform, interval="normal")
    # The uniform target is the logging policy here: every estimate matches the logged value.
    res = report.result
    for name in ("ips", "snips"):  # weights are all 1
        assert res.estimate(name).value == pytest.approx(res.logging.value)
    # DR aims at the expected value (1/3), not the realised mean, with a far smaller se.
    dr = res.estimate("dr")
    assert dr.lower < logging_truth < dr.upper and dr.se < res.estimate("ips").se
    assert report.result.logging.lower < logging_truth < report.result.logging.upper
    assert report.target == "uniform over the stage's logged assets"
