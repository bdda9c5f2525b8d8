"""Contract 1: one language of stages (matching, unknown stages, BATON_STAGES, HubSpot)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.acceptance.conftest import Api, run_cli, run_sh

DEFAULT_STAGES = Path(__file__).resolve().parents[2] / "recommender" / "stages.yaml"
CUSTOM = [
    {"name": "Discovery", "buying_stage": "awareness"},
    {"name": "Pilot Running", "buying_stage": "consideration"},
    {"name": "Legal Review", "buying_stage": "decision"},
    {"name": "Signed", "outcome": "won"},
    {"name": "Dropped", "outcome": "lost"},
]


def test_unknown_stage_on_the_cli_names_it_and_lists_known_ones(sh):
    res = sh("influence", "--stage", "Purgatory", "--json")
    assert res.code != 0
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert "Purgatory" in lines[0] and "awareness" in lines[0] and "Traceback" not in res.stderr
    assert res.stdout.strip() == ""


def test_stage_names_are_case_insensitive_and_trimmed(baton_env):
    run_cli(baton_env, "init")
    api = Api(baton_env)
    try:
        for raw, canonical, buying in [(" id. decision makers ", "Id. Decision Makers",
                                        "consideration"),
                                       ("NEGOTIATION/REVIEW", "Negotiation/Review", "decision"),
                                       ("\tqualification", "Qualification", "awareness")]:
            res = api.call("PUT", "/api/v1/opportunities/C-1", role="rep", json={"stage": raw})
            assert res.status_code in (200, 201), res.get_json()
            got = res.get_json()
            assert (got["stage"], got["buying_stage"]) == (canonical, buying), got
        # HubSpot's pipeline, by internal name and by label
        for raw, buying in [("contractsent", "decision"), ("Presentation Scheduled",
                                                           "consideration")]:
            res = api.call("PUT", "/api/v1/opportunities/H-1", role="rep",
                           json={"pipeline": "hubspot", "stage": raw})
            assert res.status_code in (200, 201), res.get_json()
            assert res.get_json()["buying_stage"] == buying
        bad = api.call("PUT", "/api/v1/opportunities/H-1", role="rep",
                       json={"pipeline": "hubspot", "stage": "Needs Analysis"})
        assert bad.status_code in (400, 422)
        message = bad.get_json()["error"]["message"]
        assert "Needs Analysis" in message and "contractsent" in message.lower().replace(" ", "") \
            or "Contract Sent" in message
    finally:
        api.close()


def test_custom_pipeline_from_baton_stages(tmp_path, baton_env):
    config = yaml.safe_load(DEFAULT_STAGES.read_text(encoding="utf-8"))
    config["pipelines"] = [{"name": "acme", "stages": CUSTOM}]
    config["default_pipeline"] = "acme"
    path = tmp_path / "acme-stages.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {**baton_env, "BATON_STAGES": str(path)}
    crm = tmp_path / "crm"
    crm.mkdir()
    (crm / "opportunities.csv").write_text(
        "opportunity_id,name,account,industry,persona,amount,owner,created_at,stage,"
        "stage_entered_at,status,closed_at,notes\n"
        "A-1,Acme one,Acme,retail,cfo,100,ann,2026-01-01T00:00:00,pilot running,"
        "2026-01-10T00:00:00,open,,\n"
        "A-2,Acme two,Acme,retail,cfo,100,ann,2026-01-01T00:00:00,Needs Analysis,"
        "2026-01-10T00:00:00,open,,\n", encoding="utf-8")
    res = run_sh(env, "import-crm", str(crm / "opportunities.csv"))
    assert res.code != 0
    bad = [ln for ln in res.stderr.splitlines() if "Needs Analysis" in ln]
    assert len(bad) == 1 and "opportunities.csv" in bad[0] and ":3" in bad[0], res.stderr
    assert "Pilot Running" in bad[0] and "Legal Review" in bad[0]
    out = run_cli(env, "recommend", "A-1", "--json")
    assert out.code == 0, out.stderr
    assert out.json()["buying_stage"] == "consideration"
    assert run_cli(env, "influence", "--stage", "legal review", "--json").code == 0
