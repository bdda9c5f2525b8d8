"""``baton recommend`` and ``baton rules`` through the real CLI against a test database."""

from __future__ import annotations

import json

import pytest

from tests.support.recommend_data import add_assets, add_opportunity
from web.cli import main


@pytest.fixture
def world(baton, embedder):
    with baton.session() as session:
        add_assets(session, embedder)
        add_opportunity(session, notes="pricing objection on discounts and contract terms")
    return baton


def test_recommend_prints_a_table_with_reasons(world, runner):
    result = runner.invoke(main, ["recommend", "opp-1", "--k", "3"])
    assert result.exit_code == 0, result.output
    assert "buying stage decision" in result.output
    assert result.output.count("score ") == 3
    assert "    - fits the decision stage" in result.output


def test_recommend_json_is_one_document(world, runner):
    result = runner.invoke(main, ["recommend", "opp-1", "--k", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["opportunity_id"] == "opp-1" and len(data["recommendations"]) == 2
    item = data["recommendations"][0]
    assert {"asset_id", "title", "url", "type", "stage", "score", "reasons",
            "recommendation_id", "propensity", "passage"} <= set(item)
    assert item["recommendation_id"] == data["recommendation_id"]


def test_recommend_unknown_opportunity_is_one_line_error(world, runner):
    result = runner.invoke(main, ["recommend", "ghost"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: unknown opportunity 'ghost'"


def test_rules_add_list_delete(world, runner, tmp_path):
    rule_file = tmp_path / "rule.yaml"
    rule_file.write_text("name: no security\naction: exclude\ntarget: {type: security_review}\n")
    added = runner.invoke(main, ["rules", "add", str(rule_file)])
    assert added.exit_code == 0, added.output
    inline = runner.invoke(main, ["rules", "add", json.dumps({
        "name": "boost roi", "condition": {"persona": "cfo"}, "action": "boost",
        "target": {"asset_id": "roi"}, "weight": 0.7})])
    assert inline.exit_code == 0, inline.output
    listed = json.loads(runner.invoke(main, ["rules", "list", "--json"]).stdout)
    assert [r["name"] for r in listed] == ["no security", "boost roi"]
    rec = json.loads(runner.invoke(main, ["recommend", "opp-1", "--k", "8", "--json",
                                          "--explain"]).stdout)
    ids = [i["asset_id"] for i in rec["recommendations"]]
    assert "security" not in ids
    roi = rec["recommendations"][ids.index("roi")]
    assert "rule: boost roi" in roi["reasons"]
    bad = runner.invoke(main, ["rules", "add", '{"name": "x", "action": "promote"}'])
    assert bad.exit_code == 1 and "action: 'promote' is not one of" in bad.stderr
    dup = runner.invoke(main, ["rules", "add", str(rule_file)])
    assert dup.exit_code == 1 and "already exists" in dup.stderr
    deleted = runner.invoke(main, ["rules", "delete", "no security"])
    assert deleted.exit_code == 0
    listed = json.loads(runner.invoke(main, ["rules", "list", "--json"]).stdout)
    assert [r["name"] for r in listed] == ["boost roi"]
    missing = runner.invoke(main, ["rules", "delete", "nope"])
    assert missing.exit_code == 1 and "unknown rule 'nope'" in missing.stderr
