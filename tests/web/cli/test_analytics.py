"""Analytics commands: influence, gaps, funnel, evaluate-policy and review-export."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.support.analytics_data import MODEL_EFFECTS, FittedEffects, add_logged_lists, add_world
from web.cli import main
from web.services.learning import analytics


@pytest.fixture
def world(baton):
    with baton.session() as session:
        add_world(session)
    return baton


@pytest.fixture
def trained(monkeypatch):
    monkeypatch.setattr(analytics, "current_model", lambda baton: FittedEffects(MODEL_EFFECTS))


def test_influence_table_json_and_csv(runner, world, trained):
    table = runner.invoke(main, ["influence", "--stage", "consideration"])
    assert table.exit_code == 0, table.output
    roi = next(line for line in table.output.splitlines() if " roi " in f" {line} ")
    assert "helps" in roi and "+9.0%" in roi
    data = json.loads(runner.invoke(main, ["influence", "--json"]).output)
    assert data["model_trained"] is True
    assert {r["verdict"] for r in data["rows"]} >= {"helps", "hurts", "no evidence"}
    out = runner.invoke(main, ["influence", "--csv"]).output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert next(r for r in rows if r["asset_id"] == "roi")["title"].startswith("'=")


def test_influence_errors_are_one_line(runner, world, trained):
    res = runner.invoke(main, ["influence", "--stage", "Nowhere"])
    assert res.exit_code == 1 and "unknown stage 'Nowhere'" in res.output
    assert "Traceback" not in res.output
    both = runner.invoke(main, ["influence", "--json", "--csv"])
    assert both.exit_code == 2 and "at most one" in both.output


def test_influence_without_a_model_says_so(runner, world, monkeypatch):
    monkeypatch.setattr(analytics, "current_model", lambda baton: None)
    res = runner.invoke(main, ["influence"])
    assert res.exit_code == 0 and "model not trained — run baton train" in res.output
    assert "not enough data" in res.output


def test_gaps_and_funnel(runner, world, trained):
    data = json.loads(runner.invoke(main, ["gaps", "--json"]).output)
    assert any(c["open_requests"] == 1 and c["persona"] == "security" for c in data["cells"])
    table = runner.invoke(main, ["gaps"])
    assert table.exit_code == 0 and "no asset that helps" in table.output
    funnel = json.loads(runner.invoke(main, ["funnel", "--json"]).output)
    assert funnel["rows"][0]["stage"] == "Prospecting" and funnel["rows"][0]["entered"] == 6


def test_evaluate_policy(runner, baton, trained):
    with baton.session() as session:
        add_world(session)
        add_logged_lists(session)
    res = runner.invoke(main, ["evaluate-policy", "--json", "--interval", "normal"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    snips = next(e for e in data["estimates"] if e["estimator"] == "snips")
    assert snips["value"] == pytest.approx(1.0)
    assert data["logging_policy"]["value"] < 0.6 and data["n_lists"] == 300
    table = runner.invoke(main, ["evaluate-policy"])
    assert table.exit_code == 0 and "effective sample size" in table.output


def test_evaluate_policy_without_a_model(runner, world, monkeypatch):
    monkeypatch.setattr(analytics, "current_model", lambda baton: None)
    res = runner.invoke(main, ["evaluate-policy"])
    assert res.exit_code == 1 and "run baton train" in res.output


def test_review_export_writes_markdown_and_csv(runner, world, trained, tmp_path):
    out = tmp_path / "review"
    res = runner.invoke(main, ["review-export", str(out), "--period", "2026 Q1"])
    assert res.exit_code == 0, res.output
    markdown = (out / "content-review.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Content review — 2026 Q1") and "### What worked" in markdown
    rows = list(csv.DictReader(io.StringIO((out / "content-review.csv").read_text("utf-8"))))
    assert {r["section"] for r in rows} == {"influence", "gap"}


def test_commands_work_on_an_empty_database(runner, baton, monkeypatch, tmp_path):
    monkeypatch.setattr(analytics, "current_model", lambda baton: None)
    assert "no assets to report" in runner.invoke(main, ["influence"]).output
    gaps = json.loads(runner.invoke(main, ["gaps", "--json"]).output)
    assert gaps["model_trained"] is False
    assert {c["status"] for c in gaps["cells"]} == {"no asset"}
    assert runner.invoke(main, ["funnel"]).exit_code == 0
    res = runner.invoke(main, ["review-export", str(tmp_path / "r")])
    assert res.exit_code == 0 and "Model not trained" in (tmp_path / "r" /
                                                          "content-review.md").read_text()
