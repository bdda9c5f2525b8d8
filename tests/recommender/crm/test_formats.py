"""CRM readers: the baton format, Salesforce both shapes, HubSpot, encodings and detection."""

from __future__ import annotations

from datetime import datetime

import pytest

from recommender.crm.csv_reading import (
    RowError,
    iter_csv,
    parse_amount,
    parse_bool,
    parse_datetime,
)
from recommender.crm.formats import (
    StageResolver,
    detect_kind,
    plan_import,
    read_baton_events,
    read_baton_history,
    read_baton_opportunities,
    status_for,
)
from recommender.crm.vendors import (
    read_hubspot_deals,
    read_hubspot_history,
    read_salesforce_accounts,
    read_salesforce_history,
    read_salesforce_opportunities,
)
from recommender.errors import ValidationError
from recommender.stage_config import load_stage_config

OPP_HEADER = ("opportunity_id,name,account,industry,persona,amount,owner,created_at,stage,"
              "stage_entered_at,status,closed_at,notes\n")


@pytest.fixture(scope="module")
def stages():
    return load_stage_config()


@pytest.fixture
def resolver(stages):
    return StageResolver(stages)


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def split(items):
    good = [(line, rec) for item in items if not isinstance(item, RowError)
            for line, rec in [item]]
    bad = [item for item in items if isinstance(item, RowError)]
    return good, bad


# --- value parsers -------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("2026-03-31", datetime(2026, 3, 31)),
    ("2026-03-31 14:05:09", datetime(2026, 3, 31, 14, 5, 9)),
    ("2026-03-31T14:05:09.000+0000", datetime(2026, 3, 31, 14, 5, 9)),
    ("2026-03-31T16:05:09+02:00", datetime(2026, 3, 31, 14, 5, 9)),
    ("2026-03-31T14:05:09Z", datetime(2026, 3, 31, 14, 5, 9)),
    ("2026-03-31 14:05", datetime(2026, 3, 31, 14, 5)),
    ("3/31/2026", datetime(2026, 3, 31)),
    ("3/31/2026 2:05 PM", datetime(2026, 3, 31, 14, 5)),
])
def test_parse_datetime_accepts_iso_and_salesforce_shapes(text, expected):
    assert parse_datetime(text, "created_at") == expected


@pytest.mark.parametrize("text", ["2026-13-01", "31/03/2026", "yesterday", "2026-02-30"])
def test_parse_datetime_rejects_bad_dates_naming_the_column(text):
    with pytest.raises(ValidationError, match=r"bad date in closed_at: .*ISO 8601"):
        parse_datetime(text, "closed_at")


def test_parse_datetime_blank_is_none():
    assert parse_datetime("  ", "x") is None


def test_parse_bool_and_amount():
    assert [parse_bool(v, "IsWon") for v in ("1", "0", "TRUE", "false", "")] == [
        True, False, True, False, None]
    with pytest.raises(ValidationError, match="IsWon"):
        parse_bool("maybe", "IsWon")
    assert parse_amount("USD 1,234.50", "Amount") == 1234.5
    assert parse_amount("$900", "Amount") == 900.0
    with pytest.raises(ValidationError, match="negative"):
        parse_amount("-5", "Amount")
    with pytest.raises(ValidationError, match="not a number"):
        parse_amount("ten", "Amount")
    with pytest.raises(ValidationError, match="finite"):
        parse_amount("nan", "Amount")


def test_status_for_contradiction_is_an_error(stages):
    won = stages.pipeline_stage("Closed Won")
    assert status_for(won) == "won"
    assert status_for(stages.pipeline_stage("Qualification")) == "open"
    assert status_for(stages.pipeline_stage("Qualification"), "lost") == "lost"
    with pytest.raises(ValidationError, match="contradicts"):
        status_for(won, "lost")
    with pytest.raises(ValidationError, match="contradicts"):
        status_for(won, is_closed=True, is_won=False)
    lost = stages.pipeline_stage("Closed Lost")
    assert status_for(lost, is_won=False) == "lost"  # HubSpot: no IsClosed column
    assert status_for(won, is_closed=True) == "won"
    assert status_for(stages.pipeline_stage("Qualification"), is_won=False) == "open"


# --- CSV reading, encodings ----------------------------------------------------------------

def test_bom_is_tolerated(tmp_path, resolver):
    path = write(tmp_path, "opportunities.csv",
                 "\ufeff" + OPP_HEADER + "o1,Deal,Acme,retail,cfo,100,ann,2026-01-01,"
                 "Prospecting,,,,\n")
    good, bad = split(list(read_baton_opportunities(path, resolver)))
    assert bad == []
    assert good[0][1].opportunity_id == "o1"


def test_latin1_row_is_rejected_and_the_rest_kept(tmp_path, resolver):
    body = (OPP_HEADER + "o1,Caf\u00e9 deal,Acme,,,,,,Prospecting,,,,\n").encode("latin-1")
    body += b"o2,Plain deal,Acme,,,,,,Prospecting,,,,\n"
    path = write(tmp_path, "opportunities.csv", body)
    good, bad = split(list(read_baton_opportunities(path, resolver)))
    assert [rec.opportunity_id for _, rec in good] == ["o2"]
    assert bad[0].line == 2
    assert "not valid UTF-8: byte 0xE9 in column 'name'" in bad[0].reason


def test_utf16_file_is_rejected_whole(tmp_path, resolver):
    path = write(tmp_path, "opportunities.csv",
                 OPP_HEADER + "o1,x,,,,,,,Prospecting,,,,\n", encoding="utf-16")
    items = list(read_baton_opportunities(path, resolver))
    assert len(items) == 1 and isinstance(items[0], RowError)
    assert "UTF-16" in items[0].reason


def test_missing_column_rejects_the_file(tmp_path, resolver):
    path = write(tmp_path, "opportunities.csv", "opportunity_id,name\no1,x\n")
    items = list(read_baton_opportunities(path, resolver))
    assert len(items) == 1 and items[0].line == 1
    assert "missing column(s) stage" in items[0].reason


def test_line_numbers_count_multiline_quoted_fields(tmp_path):
    path = write(tmp_path, "x.csv", 'a,b\n1,"two\nlines"\n3,4\n5\n')
    items = list(iter_csv(path))
    assert items[0] == (2, {"a": "1", "b": "two\nlines"})
    assert items[1] == (4, {"a": "3", "b": "4"})
    assert isinstance(items[2], RowError) and items[2].line == 5
    assert "1 fields but the header has 2" in items[2].reason


# --- baton format --------------------------------------------------------------------------

def test_baton_opportunities_rows_and_errors(tmp_path, resolver):
    path = write(tmp_path, "opportunities.csv", OPP_HEADER
                 + "o1,Deal,Acme,retail,cfo,1000,ann,2026-01-01,  needs analysis ,"
                   "2026-02-01,,,\"notes, with comma\"\n"
                 + "o2,Deal2,B,,,-10,ann,2026-01-01,Prospecting,,,,\n"
                 + "o3,Deal3,C,,,5,ann,2026-01-01,Discovery,,,,\n"
                 + "o4,Deal4,D,,,5,ann,2026-01-01,Closed Won,,,2026-03-01,\n"
                 + "o5,Deal5,E,,,5,ann,not-a-date,Prospecting,,,,\n"
                 + "o6,Deal6,F,,,5,ann,,Closed Lost,,won,,\n")
    good, bad = split(list(read_baton_opportunities(path, resolver)))
    assert [rec.opportunity_id for _, rec in good] == ["o1", "o4"]
    o1 = good[0][1]
    assert o1.stage == "Needs Analysis" and o1.amount == 1000.0 and o1.status == "open"
    assert o1.stage_entered_at == datetime(2026, 2, 1) and o1.notes == "notes, with comma"
    o4 = good[1][1]
    assert o4.status == "won" and o4.closed_at == datetime(2026, 3, 1)
    reasons = {e.line: e.reason for e in bad}
    assert "negative" in reasons[3]
    assert reasons[4].startswith("unknown stage 'Discovery'; known stages: Prospecting")
    assert "bad date in created_at" in reasons[6]
    assert "contradicts" in reasons[7]


def test_baton_history_and_events(tmp_path, resolver):
    hist = write(tmp_path, "stage_history.csv",
                 "opportunity_id,from_stage,to_stage,changed_at\n"
                 "o1,,Prospecting,2026-01-01\n"
                 "o1,Prospecting,Qualification,2026-01-05T10:00:00Z\n"
                 "o1,Qualification,Nowhere,2026-01-06\n")
    good, bad = split(list(read_baton_history(hist, resolver)))
    assert [(r.from_stage, r.to_stage) for _, r in good] == [
        (None, "Prospecting"), ("Prospecting", "Qualification")]
    assert bad[0].line == 4 and "unknown stage 'Nowhere'" in bad[0].reason

    events = write(tmp_path, "content_events.csv",
                   "event_id,opportunity_id,asset_id,event_type,stage,occurred_at,user,"
                   "propensity\n"
                   "e1,o1,a1,shared,consideration,2026-01-02,ann,0.5\n"
                   "e2,o1,a1,emailed,,2026-01-02,ann,\n"
                   "e3,o1,a1,viewed,,2026-01-02,ann,1.5\n"
                   "e4,o1,a1,viewed,Negotiation/Review,2026-01-02,,\n")
    good, bad = split(list(read_baton_events(events, resolver)))
    assert [r.event_id for _, r in good] == ["e1", "e4"]
    assert good[0][1].propensity == 0.5
    reasons = {e.line: e.reason for e in bad}
    assert "bad event_type 'emailed'" in reasons[3]
    assert "not in (0, 1]" in reasons[4]


# --- Salesforce ----------------------------------------------------------------------------

SF_API = ('"Id","Name","AccountId","StageName","Amount","CloseDate","CreatedDate","OwnerId",'
          '"IsClosed","IsWon","Description"\n'
          '"006A","Big deal","001A","Needs Analysis","5000","2026-06-30",'
          '"2026-01-10T09:00:00.000+0000","005X","0","0","wants routing"\n'
          '"006B","Won deal","001B","Closed Won","100","2026-03-01","2026-01-02 08:00:00",'
          '"005X","true","true",""\n'
          '"006C","Odd","001A","Closed Won","100","2026-03-01","2026-01-02","005X","1","0",""\n')


def test_salesforce_data_loader_with_accounts(tmp_path, stages):
    resolver = StageResolver(stages, "salesforce")
    acc = write(tmp_path, "Account.csv",
                '"Id","Name","Industry"\n"001A","Acme Freight","Logistics"\n')
    accounts, errors = read_salesforce_accounts(acc)
    assert errors == [] and accounts["001A"] == ("Acme Freight", "Logistics")
    path = write(tmp_path, "Opportunity.csv", SF_API)
    good, bad = split(list(read_salesforce_opportunities(path, resolver, accounts)))
    a, b = good[0][1], good[1][1]
    assert (a.account, a.industry, a.status) == ("Acme Freight", "Logistics", "open")
    assert a.created_at == datetime(2026, 1, 10, 9) and a.closed_at is None
    assert b.account == "001B"  # no account row: the id is kept rather than nothing
    assert (b.status, b.closed_at) == ("won", datetime(2026, 3, 1))
    assert bad[0].line == 4 and "contradicts" in bad[0].reason


def test_salesforce_report_export_skips_footer(tmp_path, stages):
    resolver = StageResolver(stages, "salesforce")
    path = write(tmp_path, "report.csv",
                 "Opportunity ID,Opportunity Name,Account Name,Stage,Amount,Close Date,"
                 "Created Date,Opportunity Owner,Industry,Description\n"
                 "006A,Deal A,Acme,Value Proposition,\"USD 12,000.00\",6/30/2026,1/15/2026,"
                 "Ann Lee,Retail,hello\n"
                 "\n\"Grand Totals (1 records)\"\n\"Confidential Information - Do Not "
                 "Distribute\"\n\"Copyright (c) 2000-2026 salesforce.com, inc.\"\n")
    assert detect_kind(path, "salesforce") == "opportunities"
    good, bad = split(list(read_salesforce_opportunities(path, resolver)))
    assert bad == []
    rec = good[0][1]
    assert (rec.amount, rec.owner, rec.industry, rec.created_at) == (
        12000.0, "Ann Lee", "Retail", datetime(2026, 1, 15))


def test_salesforce_history_any_order_derives_changes(tmp_path, stages):
    resolver = StageResolver(stages, "salesforce")
    path = write(tmp_path, "OpportunityHistory.csv",
                 '"OpportunityId","StageName","CreatedDate","Amount","IsDeleted"\n'
                 '"006A","Needs Analysis","2026-01-20T00:00:00.000+0000","5","0"\n'
                 '"006B","Prospecting","2026-01-03 00:00:00","5","0"\n'
                 '"006A","Prospecting","2026-01-01","5","0"\n'
                 '"006A","Needs Analysis","2026-01-25","9","0"\n'
                 '"006A","Qualification","2026-01-10","5","false"\n'
                 '"006A","Negotiation/Review","2026-01-11","5","1"\n'
                 '"006B","Bogus","2026-01-03","5","0"\n')
    good, bad = split(list(read_salesforce_history(path, resolver)))
    changes = [(r.opportunity_id, r.from_stage, r.to_stage, r.changed_at.day)
               for _, r in good]
    assert changes == [
        ("006A", None, "Prospecting", 1),
        ("006A", "Prospecting", "Qualification", 10),
        ("006A", "Qualification", "Needs Analysis", 20),
        ("006B", None, "Prospecting", 3),
    ]
    assert bad[0].line == 8 and "unknown stage 'Bogus'" in bad[0].reason


def test_salesforce_field_history_report(tmp_path, stages):
    resolver = StageResolver(stages, "salesforce")
    path = write(tmp_path, "history_report.csv",
                 "Opportunity Name,Field / Event,Old Value,New Value,Edit Date\n"
                 "Deal A,Stage,Prospecting,Qualification,2/1/2026 9:30 AM\n"
                 "Deal A,Amount,5,10,2/2/2026\n"
                 "Ghost,Stage,Prospecting,Qualification,2/1/2026\n")
    assert detect_kind(path, "salesforce") == "stage_history"
    items = list(read_salesforce_history(path, resolver,
                                         {"Deal A": "006A"}.get))
    good, bad = split(items)
    assert [(r.opportunity_id, r.from_stage, r.to_stage, r.changed_at) for _, r in good] == [
        ("006A", "Prospecting", "Qualification", datetime(2026, 2, 1, 9, 30))]
    assert bad[0].line == 4 and "'Ghost'" in bad[0].reason


# --- HubSpot -------------------------------------------------------------------------------

def test_hubspot_labels_internal_names_and_date_entered(tmp_path, stages):
    resolver = StageResolver(stages, "hubspot")
    path = write(tmp_path, "deals.csv",
                 'Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,'
                 'Pipeline,Associated Company,Industry,'
                 'Date entered "Appointment Scheduled (Sales Pipeline)",'
                 'Date entered "Contract Sent (Sales Pipeline)"\n'
                 "101,Alpha,Appointment Scheduled,1000,2026-05-01,2026-01-01 10:00,Bo,"
                 "Sales Pipeline,Acme,Retail,2026-01-01 10:00,\n"
                 "102,Beta,contractsent,2000,,2026-01-02,Bo,Sales Pipeline,Bee,,"
                 "2026-01-02,2026-02-02\n"
                 "103,Gamma,Closed Won (Sales Pipeline),300,2026-03-03,2026-01-03,Bo,"
                 "Sales Pipeline,Cee,,,\n"
                 "104,Delta,Needs Analysis,1,,2026-01-03,Bo,Sales Pipeline,Dee,,,\n")
    assert detect_kind(path, "hubspot") == "opportunities"
    good, bad = split(list(read_hubspot_deals(path, resolver)))
    recs = {r.opportunity_id: r for _, r in good}
    assert recs["101"].stage == "appointmentscheduled" and recs["101"].account == "Acme"
    assert recs["101"].stage_entered_at == datetime(2026, 1, 1, 10)
    assert recs["102"].stage == "contractsent"
    assert recs["102"].stage_entered_at == datetime(2026, 2, 2)
    assert (recs["103"].status, recs["103"].closed_at) == ("won", datetime(2026, 3, 3))
    # A Salesforce stage is not a HubSpot stage: the error lists HubSpot's.
    assert bad[0].line == 5 and "known stages: appointmentscheduled" in bad[0].reason
    history = [(r.opportunity_id, r.from_stage, r.to_stage)
               for _, r in split(list(read_hubspot_history(path, resolver)))[0]]
    assert history == [("101", None, "appointmentscheduled"),
                       ("102", None, "appointmentscheduled"),
                       ("102", "appointmentscheduled", "contractsent")]


# --- detection -----------------------------------------------------------------------------

def test_plan_import_by_header_and_name(tmp_path):
    write(tmp_path, "opps_export.csv", OPP_HEADER)
    write(tmp_path, "history.csv", "opportunity_id,from_stage,to_stage,changed_at\n")
    write(tmp_path, "content_events.csv",
          "event_id,opportunity_id,asset_id,event_type,stage,occurred_at,user,propensity\n")
    write(tmp_path, "notes.csv", "something,else\n")
    plan = plan_import([tmp_path], "baton")
    assert [p.name for p in plan.files["opportunities"]] == ["opps_export.csv"]
    assert [p.name for p in plan.files["stage_history"]] == ["history.csv"]
    assert [p.name for p in plan.files["events"]] == ["content_events.csv"]
    assert [p.name for p in plan.skipped] == ["notes.csv"]
    explicit = plan_import([tmp_path / "notes.csv", tmp_path / "nope.csv"], "baton")
    assert [e.reason for e in explicit.errors][0].startswith("not a recognised baton")
    assert explicit.errors[1].reason == "no such file or directory"
    # Content events are Baton's own file, accepted beside any CRM's export.
    sf = plan_import([tmp_path / "content_events.csv"], "salesforce")
    assert [p.name for p in sf.files["events"]] == ["content_events.csv"] and not sf.errors
    with pytest.raises(ValidationError, match="unknown CRM format"):
        plan_import([tmp_path], "pipedrive")
