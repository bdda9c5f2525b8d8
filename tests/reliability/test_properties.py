"""Property-based attacks on the parsers: arbitrary bytes and rows never crash them, every
bad row is reported with its line, and an import never half-imports a row."""

from __future__ import annotations

import csv
import io
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models import Opportunity
from recommender.content.asset_files import parse_metadata, parse_yaml_mapping
from recommender.content.extract import extract
from recommender.crm.csv_reading import RowError
from recommender.crm.formats import (
    StageResolver,
    read_baton_events,
    read_baton_history,
    read_baton_opportunities,
)
from recommender.errors import BatonError
from recommender.stage_config import load_stage_config
from web.services.crm.importing import import_crm

STAGES = load_stage_config()
RESOLVER = StageResolver(STAGES)
READERS = (read_baton_opportunities, read_baton_history, read_baton_events)
HEADERS = {
    read_baton_opportunities: "opportunity_id,name,account,industry,persona,amount,owner,"
    "created_at,stage,stage_entered_at,status,closed_at,notes\n",
    read_baton_history: "opportunity_id,from_stage,to_stage,changed_at\n",
    read_baton_events: "event_id,opportunity_id,asset_id,event_type,stage,occurred_at,user,"
    "propensity\n",
}
FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _check_items(items, path):
    lines = []
    for item in items:
        if isinstance(item, RowError):
            assert item.file == str(path)
            assert item.line >= 0 and item.reason
        else:
            line, _record = item
            assert line >= 2  # the header is line 1
            lines.append(line)
    assert lines == sorted(lines)


@FAST
@given(body=st.binary(max_size=600), which=st.sampled_from(READERS))
def test_arbitrary_bytes_after_a_valid_header_never_crash_a_reader(tmp_path_factory, body,
                                                                   which):
    path = tmp_path_factory.mktemp("csv") / "file.csv"
    path.write_bytes(HEADERS[which].encode() + body)
    _check_items(which(path, RESOLVER), path)


@FAST
@given(body=st.binary(max_size=400), which=st.sampled_from(READERS))
def test_arbitrary_whole_files_never_crash_a_reader(tmp_path_factory, body, which):
    path = tmp_path_factory.mktemp("csv") / "file.csv"
    path.write_bytes(body)
    _check_items(which(path, RESOLVER), path)


ONE_LINE = string.printable.translate({ord(c): None for c in "\n\r\x0b\x0c"})
# Cells stay on one physical line so the n-th row is line n + 1 (the importer reports
# physical lines, which is what a user opening the file sees).
cell = st.one_of(
    st.text(alphabet=ONE_LINE, max_size=12),
    st.sampled_from(["Prospecting", "closed won", "Negotiation/Review", "nope", "", "-5",
                     "12.5", "2026-01-02", "2026-13-45", "2026-01-02T03:04:05Z", "won", "open",
                     "=cmd|' /C calc'!A0", "\u00e9t\u00e9", "1e309"]),
)


@FAST
@given(rows=st.lists(st.tuples(st.sampled_from(["o1", "o2", "o3", "", "o 4"]), cell, cell, cell,
                               cell), min_size=1, max_size=8))
def test_import_keeps_good_rows_reports_bad_ones_and_never_half_imports(
        tmp_path_factory, baton, rows):
    folder = tmp_path_factory.mktemp("crm")
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["opportunity_id", "name", "amount", "stage", "created_at", "status"])
    for opp_id, name, amount, stage, created in rows:
        writer.writerow([opp_id, name, amount, stage, created, ""])
    (folder / "opportunities.csv").write_text(buf.getvalue(), encoding="utf-8")

    with baton.session() as session:
        before = session.scalar(select(func.count()).select_from(Opportunity))
    report = import_crm(baton, [folder], format="baton")
    with baton.session() as session:
        stored = {o.opportunity_id: o for o in session.scalars(select(Opportunity))}
    rejected_lines = {e.line for e in report.rejected}
    # Every data row is either stored (by its id) or reported with its own line number.
    for line, (opp_id, *rest) in enumerate(rows, start=2):
        if not any(c.strip() for c in (opp_id, *rest)):
            continue  # a blank row is no row
        assert line in rejected_lines or opp_id.strip() in stored, (line, opp_id, report.rejected)
    for opp in stored.values():
        assert opp.stage and opp.buying_stage is not None or opp.status != "open"
        assert opp.amount is None or opp.amount >= 0
    assert len(stored) >= before
    # Re-importing the same file changes nothing.
    again = import_crm(baton, [folder], format="baton")
    with baton.session() as session:
        assert {o.opportunity_id for o in session.scalars(select(Opportunity))} == set(stored)
    assert len(again.rejected) == len(report.rejected)


yaml_text = st.one_of(
    st.text(max_size=200),
    st.builds(lambda k, v: f"{k}: {v}\n", st.sampled_from(
        ["id", "title", "type", "stage", "personas", "industries", "expires", "url", "bogus"]),
        st.text(alphabet=string.printable, max_size=30)),
)


@FAST
@given(text=yaml_text)
def test_front_matter_is_parsed_or_rejected_with_a_baton_error(text):
    try:
        raw = parse_yaml_mapping(text, "front matter")
        metadata, _given = parse_metadata(raw, stages=STAGES, default_asset_id="x",
                                          default_title="X")
    except BatonError as exc:
        assert str(exc)
    else:
        assert metadata.id and metadata.title


@FAST
@given(data=st.binary(max_size=800),
       name=st.sampled_from(["a.pdf", "a.docx", "a.pptx", "a.html", "a.md", "a.txt", "a.bin"]))
def test_extract_never_fails_with_anything_but_a_baton_error(data, name):
    try:
        result = extract(name, data, max_bytes=1 << 20, max_pdf_pages=5)
    except BatonError as exc:
        assert str(exc)
    else:
        assert isinstance(result.text, str) and result.text.strip()
