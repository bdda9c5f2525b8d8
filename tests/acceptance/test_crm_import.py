"""Contract 3: CRM CSVs in (baton, salesforce report + Data Loader, hubspot), idempotent, loud."""
# ruff: noqa: E501  (the CSV fixtures are real export lines)

from __future__ import annotations

import random

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.acceptance.conftest import make_app, run_cli, run_sh

SKIP_TABLES = {"alembic_version"}


def db_state(env) -> dict[str, list[tuple]]:
    """Every row of every table (sorted), to compare the database before and after."""
    engine = create_engine(env["BATON_DATABASE_URL"])
    state = {}
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            if table in SKIP_TABLES:
                continue
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
            state[table] = sorted(tuple(map(repr, r)) for r in rows)
    engine.dispose()
    return state


_KEYS: dict[str, str] = {}


def history(env, oid: str) -> list[tuple]:
    """The stored stage history of one opportunity: (from, to) in time order."""
    engine = create_engine(env["BATON_DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT from_stage, to_stage FROM stage_changes WHERE "
                                 "opportunity_id = :o ORDER BY changed_at"), {"o": oid}).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def opportunity(env, oid: str) -> dict:
    """The opportunity as ``GET /api/v1/opportunities/{id}`` returns it."""
    app = make_app(env)
    try:
        url = env["BATON_DATABASE_URL"]
        key = _KEYS.get(url) or _KEYS.setdefault(url, run_cli_key(env))
        res = app.test_client().get(f"/api/v1/opportunities/{oid}",
                                    headers={"Authorization": f"Bearer {key}"})
        assert res.status_code == 200, (oid, res.get_json())
        return res.get_json()
    finally:
        app.extensions["baton"].close()


def run_cli_key(env) -> str:
    from tests.acceptance.conftest import api_key

    return api_key(env, "rep")


def write(path, text_: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text_.lstrip("\n"), encoding="utf-8")


BATON_OPPS = """
opportunity_id,name,account,industry,persona,amount,owner,created_at,stage,stage_entered_at,status,closed_at,notes
K-1,Kestrel fleet,Kestrel,logistics,cfo,12000,ann,2026-01-05T09:00:00Z,  needs analysis ,2026-01-20T09:00:00Z,open,,"worried about ""fuel"", drivers"
K-2,Lark stores,Lark,retail,cio,8000,bob,2026-01-06T09:00:00+01:00,Closed Won,2026-02-20T10:00:00,won,2026-02-20T10:00:00,
K-3,Bad stage,Moth,retail,cio,5000,bob,2026-01-07T09:00:00,Haggling,2026-01-07T09:00:00,open,,
K-4,Bad date,Wren,retail,cio,5000,bob,not-a-date,Prospecting,2026-01-07T09:00:00,open,,
K-5,Ok deal,Finch,healthcare,security,7000,ann,2026-01-08T09:00:00,PROPOSAL/PRICE QUOTE,2026-02-01T09:00:00,open,,
"""
BATON_HIST = """
opportunity_id,from_stage,to_stage,changed_at
K-1,Prospecting,Needs Analysis,2026-01-20T09:00:00Z
K-2,Prospecting,Proposal/Price Quote,2026-02-01T09:00:00
K-2,Proposal/Price Quote,Closed Won,2026-02-20T10:00:00
K-5,Qualification,Proposal/Price Quote,2026-02-01T09:00:00
"""
BATON_EVENTS = """
event_id,opportunity_id,asset_id,event_type,stage,occurred_at,user,propensity
ev-1,K-1,roi-sheet,shared,consideration,2026-01-21T09:00:00,ann,0.25
ev-2,K-1,roi-sheet,viewed,consideration,2026-01-22T09:00:00,,
ev-3,K-2,roi-sheet,teleported,decision,2026-02-02T09:00:00,bob,
ev-4,K-5,roi-sheet,helpful,decision,2026-02-03T09:00:00,ann,
"""


def test_baton_format_rejects_bad_rows_loudly_and_reimport_changes_nothing(tmp_path, baton_env):
    crm = tmp_path / "crm"
    write(crm / "opportunities.csv", BATON_OPPS)
    write(crm / "stage_history.csv", BATON_HIST)
    write(crm / "content_events.csv", BATON_EVENTS)
    write(tmp_path / "lib" / "roi.md", "---\nid: roi-sheet\ntype: roi_calculator\n---\nPayback.\n")
    assert run_cli(baton_env, "ingest", str(tmp_path / "lib")).code == 0
    res = run_sh(baton_env, "import-crm", str(crm), "--format", "baton")
    assert res.code != 0, res.stdout
    errors = [ln for ln in res.stderr.splitlines() if ln.strip()]
    # one line per rejected row, with file, line number and reason
    assert any("opportunities.csv" in ln and ":4" in ln and "Haggling" in ln for ln in errors), errors
    assert any("opportunities.csv" in ln and ":5" in ln for ln in errors), errors
    assert any("content_events.csv" in ln and ":4" in ln and "teleported" in ln
               for ln in errors), errors
    assert len(errors) == 3, errors
    haggle = next(ln for ln in errors if "Haggling" in ln)
    assert "Needs Analysis" in haggle and "Prospecting" in haggle  # lists the known stages
    assert "Traceback" not in res.stderr
    # the rest was imported, stage names canonicalised
    k1 = opportunity(baton_env, "K-1")
    assert k1["stage"] == "Needs Analysis"
    assert opportunity(baton_env, "K-5")["stage"] == "Proposal/Price Quote"
    assert opportunity(baton_env, "K-2")["status"] == "won"
    before = db_state(baton_env)
    again = run_cli(baton_env, "import-crm", str(crm / "opportunities.csv"),
                   str(crm / "stage_history.csv"), str(crm / "content_events.csv"),
                   "--format", "baton", "--json")
    assert again.code != 0
    summary = again.json()
    assert isinstance(summary, dict)
    assert db_state(baton_env) == before


SF_REPORT = """
"Opportunity ID","Opportunity Name","Account Name","Stage","Amount","Close Date","Created Date","Opportunity Owner","Industry","Description"
"006A1","Heron rollout","Heron Ltd","Value Proposition","USD 25,000.00","3/31/2026","1/15/2026","Ann Lee","Manufacturing","needs ROI proof"
"006A2","Ibis renewal","Ibis Inc","Closed Lost","9000","2/28/2026","1/02/2026","Bob Roy","Retail",""



"Total"
"Confidential Information - Do Not Distribute"
"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."
"""
SF_FIELD_HISTORY = """
Opportunity ID,Opportunity Name,Field / Event,Old Value,New Value,Edit Date,Edited By
006A1,Heron rollout,Stage,Qualification,Value Proposition,2/10/2026,Ann Lee
006A1,Heron rollout,Stage,Prospecting,Qualification,1/20/2026,Ann Lee
006A1,Heron rollout,Amount,10000,25000,2/11/2026,Ann Lee
006A2,Ibis renewal,Stage,Prospecting,Closed Lost,2/28/2026,Bob Roy
"""


def test_salesforce_report_with_labels_and_field_history(tmp_path, baton_env):
    write(tmp_path / "sf" / "opportunities_report.csv", SF_REPORT)
    write(tmp_path / "sf" / "stage_history_report.csv", SF_FIELD_HISTORY)
    res = run_cli(baton_env, "import-crm", str(tmp_path / "sf"), "--format", "salesforce", "--json")
    assert res.code == 0, res.stderr
    heron = opportunity(baton_env, "006A1")
    assert heron["stage"] == "Value Proposition" and heron["account"] == "Heron Ltd"
    assert float(heron["amount"]) == 25000
    assert opportunity(baton_env, "006A2")["status"] == "lost"
    assert history(baton_env, "006A1")[-2:] == [("Prospecting", "Qualification"),
                                                 ("Qualification", "Value Proposition")]


def _dataloader(tmp_path, booleans: tuple[str, str]) -> None:
    t, f = booleans
    write(tmp_path / "dl" / "Opportunity.csv", f'''
"Id","Name","AccountId","StageName","Amount","CloseDate","CreatedDate","OwnerId","IsClosed","IsWon","Description"
"0065g00000AbCdEAAV","Osprey pilot","0015g00000XyZAAA","Negotiation/Review","120000.00","2026-04-30","2026-01-10T08:15:00.000+0000","0055g0000012345AAA","{f}","{f}","multi-line
description, with a comma"
"0065g00000AbCdFAAV","Puffin expansion","0015g00000XyZBBB","Closed Won","5000","2026-02-27","2026-01-11 09:30:00","0055g0000012345AAA","{t}","{t}",""
"0065g00000AbCdGAAV","Quail","0015g00000XyZBBB","Closed Lost","","2026-03-01","2026-01-12","0055g0000012345AAA","{t}","{f}",""
''')
    write(tmp_path / "dl" / "Account.csv", '''
"Id","Name","Industry"
"0015g00000XyZAAA","Osprey Freight","Transportation"
"0015g00000XyZBBB","Puffin Grocers","Retail"
''')
    hist = [
        ("0065g00000AbCdEAAV", "Prospecting", "2026-01-10T08:15:00.000+0000"),
        ("0065g00000AbCdEAAV", "Needs Analysis", "2026-01-25T08:00:00.000+0000"),
        ("0065g00000AbCdEAAV", "Negotiation/Review", "2026-03-02T08:00:00.000+0000"),
        ("0065g00000AbCdFAAV", "Qualification", "2026-01-11 09:30:00"),
        ("0065g00000AbCdFAAV", "Closed Won", "2026-02-27 12:00:00"),
    ]
    random.Random(5).shuffle(hist)
    lines = ['"Id","OpportunityId","StageName","CreatedDate","IsDeleted"']
    lines += [f'"h{i}","{o}","{s}","{d}","{f}"' for i, (o, s, d) in enumerate(hist)]
    write(tmp_path / "dl" / "OpportunityHistory.csv", "\n".join(lines) + "\n")


@pytest.mark.parametrize("booleans", [("1", "0"), ("true", "false")])
def test_salesforce_data_loader_export(tmp_path, baton_env, booleans):
    _dataloader(tmp_path, booleans)
    res = run_cli(baton_env, "import-crm", str(tmp_path / "dl"), "--format", "salesforce")
    assert res.code == 0, res.stderr
    osprey = opportunity(baton_env, "0065g00000AbCdEAAV")
    assert osprey["account"] == "Osprey Freight"
    assert osprey["stage"] == "Negotiation/Review" and osprey["status"] == "open"
    assert opportunity(baton_env, "0065g00000AbCdFAAV")["status"] == "won"
    assert opportunity(baton_env, "0065g00000AbCdGAAV")["status"] == "lost"
    to_stages = [to for _, to in history(baton_env, "0065g00000AbCdEAAV")]
    assert to_stages[-2:] == ["Needs Analysis", "Negotiation/Review"], to_stages
    before = db_state(baton_env)
    assert run_cli(baton_env, "import-crm", str(tmp_path / "dl"), "--format",
                  "salesforce").code == 0
    assert db_state(baton_env) == before


HUBSPOT = """
Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,Pipeline
9001,Robin fleet,Appointment Scheduled,1500,2026-05-01,2026-01-03 10:00,Cara Diaz,Sales Pipeline
9002,Swift depots,contractsent,22000.5,2026-04-01,2026-01-04 11:00,Cara Diaz,Sales Pipeline
9003,Tern stores,Closed Won,8000,2026-02-01,2026-01-05 12:00,Dan Ode,Sales Pipeline
9004,Bad stage,Signing Party,100,,2026-01-05 12:00,Dan Ode,Sales Pipeline
"""


@pytest.mark.parametrize("id_column", ["Record ID", "Deal ID"])
def test_hubspot_deals_export_with_labels_and_internal_names(tmp_path, baton_env, id_column):
    write(tmp_path / "hs" / "hubspot-crm-exports-all-deals.csv",
          HUBSPOT.replace("Record ID", id_column))
    res = run_cli(baton_env, "import-crm", str(tmp_path / "hs"), "--format", "hubspot")
    assert res.code != 0
    bad = [ln for ln in res.stderr.splitlines() if "Signing Party" in ln]
    assert len(bad) == 1 and ":5" in bad[0] and "hubspot-crm-exports-all-deals.csv" in bad[0], \
        res.stderr
    robin = opportunity(baton_env, "9001")
    assert robin["stage"].lower() in ("appointmentscheduled", "appointment scheduled")
    assert robin["buying_stage"] == "awareness"
    swift = opportunity(baton_env, "9002")
    assert swift["buying_stage"] == "decision"
    assert opportunity(baton_env, "9003")["status"] == "won"
