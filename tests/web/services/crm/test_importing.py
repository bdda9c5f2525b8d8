"""CRM import through the service and the CLI on a real database; opportunities and stuck deals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from models import Asset, ContentEvent, Opportunity, StageChange
from recommender.errors import NotFoundError, UnknownStageError, ValidationError
from web.cli import main
from web.runtime import Baton
from web.services.crm.importing import import_crm
from web.services.crm.opportunities import (
    get_opportunity,
    opportunity_history,
    stuck_detector,
    stuck_status,
    upsert_opportunity,
)
from web.services.queries.deals import list_opportunities, pipeline_overview

OPPORTUNITIES = """opportunity_id,name,account,industry,persona,amount,owner,created_at,stage,\
stage_entered_at,status,closed_at,notes
o1,Northwind routing,Northwind,logistics,cfo,120000,ann,2026-01-01T09:00:00Z,Needs Analysis,\
2026-01-20,open,,"Wants to cut freight cost; CFO asks for ROI"
o2,Contoso fleet,Contoso,retail,operations,80000,bob,2026-01-02,Closed Won,,won,2026-03-01,
o3,Fabrikam pilot,Fabrikam,manufacturing,cio,5000,ann,2026-01-03,Qualification,,,,
"""
HISTORY = """opportunity_id,from_stage,to_stage,changed_at
o1,,Prospecting,2026-01-01T09:00:00Z
o1,Prospecting,Needs Analysis,2026-01-20
o2,,Prospecting,2026-01-02
o2,Prospecting,Closed Won,2026-03-01
o3,,Prospecting,2026-01-03
o3,Prospecting,Qualification,2026-01-08
"""
EVENTS = """event_id,opportunity_id,asset_id,event_type,stage,occurred_at,user,propensity
e1,o1,roi-calc,shared,consideration,2026-01-21T10:00:00Z,ann,0.4
e2,o1,roi-calc,viewed,,2026-01-05,ann,
e3,o2,case-study,helpful,Negotiation/Review,2026-02-01,bob,
e4,o3,roi-calc,recommended,,2026-01-10,,0.25
"""


def add_assets(baton: Baton, ids=("roi-calc", "case-study")) -> None:
    with baton.session() as session:
        for asset_id in ids:
            session.add(Asset(id=asset_id, title=asset_id, type="case_study",
                              stage="consideration", content_hash="x" * 64))


def write_baton_export(folder, opportunities=OPPORTUNITIES, history=HISTORY, events=EVENTS):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "opportunities.csv").write_text(opportunities, encoding="utf-8")
    (folder / "stage_history.csv").write_text(history, encoding="utf-8")
    (folder / "content_events.csv").write_text(events, encoding="utf-8")
    return folder


def snapshot(baton: Baton) -> dict:
    with baton.session() as session:
        return {
            "opportunities": sorted(
                tuple(getattr(o, c.name) for c in Opportunity.__table__.columns)
                for o in session.scalars(select(Opportunity))),
            "stage_changes": sorted(
                tuple(getattr(s, c.name) for c in StageChange.__table__.columns)
                for s in session.scalars(select(StageChange))),
            "events": sorted(
                tuple(getattr(e, c.name) for c in ContentEvent.__table__.columns)
                for e in session.scalars(select(ContentEvent))),
        }


def test_baton_import_is_idempotent(any_db_baton, tmp_path):
    add_assets(any_db_baton)
    folder = write_baton_export(tmp_path / "crm")
    report = import_crm(any_db_baton, [folder])
    assert report.ok, report.rejected
    assert report.counts["opportunities_created"] == 3
    assert report.counts["stage_changes_added"] == 6
    assert report.counts["events_added"] == 4
    first = snapshot(any_db_baton)
    again = import_crm(any_db_baton, [folder])
    assert again.ok
    assert again.counts["opportunities_unchanged"] == 3
    assert again.counts["opportunities_created"] == again.counts["opportunities_updated"] == 0
    assert (again.counts["stage_changes_added"], again.counts["stage_changes_existing"]) == (0, 6)
    assert (again.counts["events_added"], again.counts["events_existing"]) == (0, 4)
    assert snapshot(any_db_baton) == first


def test_baton_import_resolves_stages_and_times(baton, tmp_path):
    add_assets(baton)
    import_crm(baton, [write_baton_export(tmp_path / "crm")])
    with baton.session() as session:
        o1 = session.get(Opportunity, "o1")
        assert (o1.pipeline, o1.stage, o1.buying_stage) == (
            "salesforce", "Needs Analysis", "consideration")
        assert o1.created_at == datetime(2026, 1, 1, 9)
        o2, o3 = session.get(Opportunity, "o2"), session.get(Opportunity, "o3")
        assert (o2.status, o2.closed_at, o2.buying_stage) == ("won", datetime(2026, 3, 1), None)
        # No stage_entered_at given: the last move into the current stage.
        assert o3.stage_entered_at == datetime(2026, 1, 8)
        events = {e.event_id: e for e in session.scalars(select(ContentEvent))}
    assert (events["e1"].stage, events["e1"].buying_stage) == ("consideration", "consideration")
    # Blank stage: the opportunity's stage at that time, from its history.
    assert (events["e2"].stage, events["e2"].buying_stage) == ("Prospecting", "awareness")
    assert (events["e4"].stage, events["e4"].buying_stage) == ("Qualification", "awareness")
    assert events["e3"].buying_stage == "decision"
    assert events["e4"].propensity == 0.25


def test_bad_rows_are_reported_and_good_rows_kept(baton, tmp_path):
    add_assets(baton)
    opportunities = OPPORTUNITIES + (
        "o4,Bad stage,X,,,1,ann,2026-01-01,Discovery,,,,\n"
        "o5,Negative,X,,,-100,ann,2026-01-01,Prospecting,,,,\n"
        "o6,Bad date,X,,,1,ann,2026-02-31,Prospecting,,,,\n"
        "o1,Duplicate,X,,,1,ann,2026-01-01,Prospecting,,,,\n")
    events = EVENTS + (
        "e5,o1,no-such-asset,shared,,2026-01-22,ann,\n"
        "e6,o9,roi-calc,shared,,2026-01-22,ann,\n"
        "e1,o1,roi-calc,shared,consideration,2026-01-21T10:00:00Z,ann,0.4\n"
        "e1,o1,case-study,shared,consideration,2026-01-21T10:00:00Z,ann,0.4\n")
    folder = write_baton_export(tmp_path / "crm", opportunities, HISTORY, events)
    seen = []
    report = import_crm(baton, [folder], on_error=seen.append)
    assert not report.ok
    assert report.rejected == seen
    reasons = {(e.file.rsplit("/", 1)[-1], e.line): e.reason for e in report.rejected}
    assert reasons[("opportunities.csv", 5)].startswith("unknown stage 'Discovery'")
    assert "negative" in reasons[("opportunities.csv", 6)]
    assert "bad date in created_at" in reasons[("opportunities.csv", 7)]
    assert "duplicate opportunity_id 'o1'" in reasons[("opportunities.csv", 8)]
    assert "unknown asset_id 'no-such-asset'" in reasons[("content_events.csv", 6)]
    assert "unknown opportunity_id 'o9'" in reasons[("content_events.csv", 7)]
    # An exact replay of e1 is not an error; the same id with other content is.
    assert ("content_events.csv", 8) not in reasons
    assert "duplicate event_id 'e1' with different content" in reasons[
        ("content_events.csv", 9)]
    assert len(report.rejected) == 7
    assert report.counts["opportunities_created"] == 3 and report.counts["events_added"] == 4
    # Second import: a different e2 now conflicts with the stored one.
    changed = EVENTS.replace("e2,o1,roi-calc,viewed", "e2,o1,roi-calc,helpful")
    write_baton_export(tmp_path / "crm2", OPPORTUNITIES, HISTORY, changed)
    second = import_crm(baton, [tmp_path / "crm2"])
    assert [e.line for e in second.rejected] == [3]
    assert "already imported" in second.rejected[0].reason


def test_encodings_bom_and_utf16(baton, tmp_path):
    folder = tmp_path / "crm"
    folder.mkdir()
    latin = (OPPORTUNITIES.replace("Northwind routing", "Caf\u00e9 routing")).encode("latin-1")
    (folder / "opportunities.csv").write_bytes(b"\xef\xbb\xbf" + latin)
    report = import_crm(baton, [folder / "opportunities.csv"])
    assert [(e.line, "byte 0xE9" in e.reason) for e in report.rejected] == [(2, True)]
    assert report.counts["opportunities_created"] == 2
    (folder / "stage_history.csv").write_text(HISTORY, encoding="utf-16")
    report = import_crm(baton, [folder / "stage_history.csv"])
    assert "UTF-16" in report.rejected[0].reason


def test_salesforce_directory_with_accounts_and_history(any_db_url, any_db_baton, tmp_path):
    folder = tmp_path / "sf"
    folder.mkdir()
    (folder / "Opportunity.csv").write_text(
        '"Id","Name","AccountId","StageName","Amount","CloseDate","CreatedDate","OwnerId",'
        '"IsClosed","IsWon","Description"\n'
        '"006A","Route plan","001A","Value Proposition","5000","2026-06-30",'
        '"2026-01-10T09:00:00.000+0000","005X","0","0","needs ROI"\n'
        '"006B","Fleet","001A","Closed Lost","100","2026-03-01","2026-01-02 08:00:00",'
        '"005X","1","0",""\n', encoding="utf-8")
    (folder / "Account.csv").write_text(
        '"Id","Name","Industry"\n"001A","Acme Freight","Logistics"\n', encoding="utf-8")
    (folder / "OpportunityHistory.csv").write_text(
        '"OpportunityId","StageName","CreatedDate"\n'
        '"006A","Value Proposition","2026-02-01T00:00:00.000+0000"\n'
        '"006A","Prospecting","2026-01-10T09:00:00.000+0000"\n'
        '"006B","Prospecting","2026-01-02 08:00:00"\n'
        '"006B","Closed Lost","2026-03-01 00:00:00"\n', encoding="utf-8")
    report = import_crm(any_db_baton, [folder], format="salesforce")
    assert report.ok, report.rejected
    kinds = sorted(kind for kind, _ in report.files)
    assert kinds == ["accounts", "opportunities", "stage_history"]
    with any_db_baton.session() as session:
        a = session.get(Opportunity, "006A")
        assert (a.account, a.industry, a.buying_stage) == ("Acme Freight", "Logistics",
                                                           "consideration")
        assert a.stage_entered_at == datetime(2026, 2, 1)
        b = session.get(Opportunity, "006B")
        assert (b.status, b.closed_at) == ("lost", datetime(2026, 3, 1))
        moves = [(s.from_stage, s.to_stage) for s in opportunity_history(session, "006A")]
    assert moves == [(None, "Prospecting"), ("Prospecting", "Value Proposition")]
    first = snapshot(any_db_baton)
    assert import_crm(any_db_baton, [folder], format="salesforce").ok
    assert snapshot(any_db_baton) == first


def test_hubspot_labels_and_internal_names(baton, tmp_path):
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,"
        "Associated Company,Industry\n"
        "101,Alpha,Presentation Scheduled,1000,2026-05-01,2026-01-01 10:00,Bo,Acme,Retail\n"
        "102,Beta,closedwon,2000,2026-03-01,2026-01-02,Bo,Bee,\n"
        "103,Gamma,Qualification,1,,2026-01-03,Bo,Cee,\n", encoding="utf-8")
    report = import_crm(baton, [deals], format="hubspot")
    assert [e.line for e in report.rejected] == [4]
    assert "unknown stage 'Qualification'" in report.rejected[0].reason
    with baton.session() as session:
        alpha, beta = session.get(Opportunity, "101"), session.get(Opportunity, "102")
    assert (alpha.pipeline, alpha.stage, alpha.buying_stage) == (
        "hubspot", "presentationscheduled", "consideration")
    assert alpha.stage_entered_at == datetime(2026, 1, 1, 10)  # created, no history
    assert (beta.status, beta.stage) == ("won", "closedwon")


def test_reimport_with_a_new_stage_appends_history(baton, tmp_path):
    path = tmp_path / "opportunities.csv"
    path.write_text(OPPORTUNITIES, encoding="utf-8")
    import_crm(baton, [path])
    path.write_text(OPPORTUNITIES.replace(",Qualification,,,,", ",Needs Analysis,2026-02-10,,,"),
                    encoding="utf-8")
    report = import_crm(baton, [path])
    assert report.counts["opportunities_updated"] == 1
    with baton.session() as session:
        moves = [(s.from_stage, s.to_stage, s.changed_at)
                 for s in opportunity_history(session, "o3")]
        o3 = session.get(Opportunity, "o3")
    assert moves == [("Qualification", "Needs Analysis", datetime(2026, 2, 10))]
    assert (o3.stage, o3.buying_stage) == ("Needs Analysis", "consideration")


# --- CLI -----------------------------------------------------------------------------------

def test_cli_import_reports_errors_and_exit_code(runner, baton, tmp_path):
    add_assets(baton)
    folder = write_baton_export(tmp_path / "crm")
    result = runner.invoke(main, ["import-crm", str(folder)])
    assert result.exit_code == 0, result.output
    assert "opportunities: 3 new" in result.stdout
    bad = EVENTS + "e9,o1,missing,shared,,2026-01-22,ann,\n"
    write_baton_export(tmp_path / "crm2", events=bad)
    result = runner.invoke(main, ["import-crm", str(tmp_path / "crm2"), "--json"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'crm2' / 'content_events.csv'}:6: unknown asset_id 'missing' "
        "(ingest the asset first)"]
    summary = json.loads(result.stdout)
    assert summary["ok"] is False and summary["rejected"] == 1
    assert summary["counts"]["events_existing"] == 4


def test_cli_stuck_lists_stuck_deals(runner, baton, tmp_path):
    import_crm(baton, [write_baton_export(tmp_path / "crm")])
    result = runner.invoke(main, ["stuck", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # Thin history: the 30-day default applies, and both open deals are months in.
    assert {r["opportunity_id"] for r in data["opportunities"]} == {"o1", "o3"}
    assert all(r["stuck"] and r["threshold_days"] == 30.0 for r in data["opportunities"])
    text = runner.invoke(main, ["stuck"]).stdout
    assert "STUCK o1" in text and "default of 30 days" in text


# --- opportunities service -----------------------------------------------------------------

def test_upsert_opportunity_creates_moves_and_closes(baton):
    with baton.session() as session:
        row, created = upsert_opportunity(baton, session, "x1", {
            "name": "Deal", "stage": "prospecting", "amount": 10,
            "created_at": "2026-01-01T00:00:00Z"})
        assert created and row.stage == "Prospecting" and row.buying_stage == "awareness"
        row, created = upsert_opportunity(baton, session, "x1", {"amount": 20})
        assert not created and row.amount == 20.0
        row, _ = upsert_opportunity(baton, session, "x1", {
            "stage": "Closed Won", "stage_entered_at": "2026-02-01"})
        assert (row.status, row.closed_at, row.buying_stage) == (
            "won", datetime(2026, 2, 1), None)
        moves = [(s.from_stage, s.to_stage) for s in opportunity_history(session, "x1")]
        assert moves == [(None, "Prospecting"), ("Prospecting", "Closed Won")]
        hub, _ = upsert_opportunity(baton, session, "h1", {
            "stage": "Contract Sent", "pipeline": "hubspot"})
        assert (hub.pipeline, hub.stage, hub.buying_stage) == (
            "hubspot", "contractsent", "decision")


@pytest.mark.parametrize("data,match", [
    ({"stage": "Nope"}, UnknownStageError),
    ({"stage": "Prospecting", "amount": -1}, ValidationError),
    ({"stage": "Prospecting", "colour": "red"}, ValidationError),
    ({"stage": "Prospecting", "created_at": "yesterday"}, ValidationError),
    ({"name": "no stage"}, ValidationError),
    ({"stage": "Closed Won", "status": "lost"}, ValidationError),
])
def test_upsert_opportunity_rejects_bad_fields(baton, data, match):
    session = baton.sessions()
    with pytest.raises(match):
        upsert_opportunity(baton, session, "y1", data)
    session.rollback()
    session.close()
    with baton.session() as session, pytest.raises(NotFoundError):
        get_opportunity(session, "y1")


def _history_of_fast_deals(baton, n=12, days=10, prefix="h"):
    start = datetime(2026, 1, 1)
    with baton.session() as session:
        for i in range(n):
            created = start + timedelta(days=i)
            session.add(Opportunity(opportunity_id=f"{prefix}{i}", stage="Proposal/Price Quote",
                                    buying_stage="decision", created_at=created))
            session.flush()
            session.add(StageChange(opportunity_id=f"{prefix}{i}", from_stage="Needs Analysis",
                                    to_stage="Proposal/Price Quote",
                                    changed_at=created + timedelta(days=days + i % 3)))


def test_stuck_status_learns_per_stage_and_refreshes(baton):
    _history_of_fast_deals(baton)
    now = datetime(2026, 6, 1)
    with baton.session() as session:
        slow, _ = upsert_opportunity(baton, session, "slow", {
            "stage": "Needs Analysis", "stage_entered_at": now - timedelta(days=40)})
        fresh, _ = upsert_opportunity(baton, session, "fresh", {
            "stage": "Needs Analysis", "stage_entered_at": now - timedelta(days=3)})
        status = stuck_status(baton, session, slow, now=now)
        assert status.stuck and status.days_in_stage == 40.0
        assert status.threshold_days == pytest.approx(11.0, abs=1.0)
        assert "12 deals that advanced from Needs Analysis" in status.reason
        assert not stuck_status(baton, session, fresh, now=now).stuck
        detector = stuck_detector(baton, session)
        assert stuck_detector(baton, session) is detector  # cached
    _history_of_fast_deals(baton, n=12, days=60, prefix="late")
    with baton.session() as session:
        assert stuck_detector(baton, session) is not detector


def test_pipeline_overview_and_list(baton, tmp_path):
    import_crm(baton, [write_baton_export(tmp_path / "crm")])
    with baton.session() as session:
        groups = pipeline_overview(baton, session, sort="amount", now=datetime(2026, 1, 25))
        assert [(g["stage"], g["count"]) for g in groups] == [
            ("Qualification", 1), ("Needs Analysis", 1)]
        o1 = groups[1]["opportunities"][0]
        assert o1["days_in_stage"] == 5.0 and o1["stuck"] is False
        assert groups[0]["opportunities"][0]["days_in_stage"] == 17.0
        rows, total = list_opportunities(baton, session, {"owner": "ann"}, per_page=1)
        assert total == 2 and [r.opportunity_id for r in rows] == ["o1"]
        rows, total = list_opportunities(baton, session, {"stage": "closed won"})
        assert [r.opportunity_id for r in rows] == ["o2"]
        rows, total = list_opportunities(baton, session, {"q": "fabrik"})
        assert [r.opportunity_id for r in rows] == ["o3"]
        with pytest.raises(ValidationError, match="unknown filter"):
            list_opportunities(baton, session, {"colour": "red"})
        with pytest.raises(ValidationError, match="unknown sort"):
            pipeline_overview(baton, session, sort="vibes")


def test_reimport_with_new_stage_and_history_takes_entry_time_from_history(baton, tmp_path):
    add_assets(baton)
    import_crm(baton, [write_baton_export(tmp_path / "crm")])
    moved = OPPORTUNITIES.replace(",Qualification,,,,", ",Needs Analysis,,,,")
    history = HISTORY + "o3,Qualification,Needs Analysis,2026-02-15T08:00:00Z\n"
    report = import_crm(baton, [write_baton_export(tmp_path / "crm2", moved, history)])
    assert report.ok and report.counts["stage_changes_added"] == 1
    with baton.session() as session:
        o3 = session.get(Opportunity, "o3")
        moves = [s.to_stage for s in opportunity_history(session, "o3")]
    assert (o3.stage, o3.stage_entered_at) == ("Needs Analysis", datetime(2026, 2, 15, 8))
    assert moves == ["Prospecting", "Qualification", "Needs Analysis"]
