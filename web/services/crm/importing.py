"""Import CRM exports (``baton``, ``salesforce``, ``hubspot``): idempotent, streaming, row-level.

Files are read as streams and written in batches: opportunities are upserted by id, stage
changes are unique by (opportunity, to_stage, changed_at), events by ``event_id`` (the same id
with different content is a rejected row). Every rejected row is reported with file, line and
reason; the good rows are kept. Re-importing the same files changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import Asset, ContentEvent, Opportunity, StageChange
from recommender.crm.csv_reading import RowError, read_header
from recommender.crm.formats import (
    ImportPlan,
    StageResolver,
    plan_import,
    read_baton_events,
    read_baton_history,
    read_baton_opportunities,
)
from recommender.crm.records import event_columns, opportunity_columns, same_event, stage_at
from recommender.crm.vendors import (
    read_hubspot_deals,
    read_hubspot_history,
    read_salesforce_accounts,
    read_salesforce_history,
    read_salesforce_opportunities,
)
from recommender.domain import EventRecord, OpportunityRecord, StageChangeRecord, utcnow
from recommender.errors import BatonError
from web.runtime import Baton
from web.services.crm.rows import (
    EVENT_COLUMNS,
    apply_opportunity_values,
    fast_insert,
    insert_ignoring_duplicates,
    stored_event_ids,
)

BATCH_SIZE = 5000
HISTORY_CACHE_SIZE = 200_000
EVENT_BATCH = 10_000  # fewer, larger commits: the same hot index pages are written once
OPPORTUNITY_BATCH = 1000
MAX_KEPT_ERRORS = 10_000
HISTORY_KEY = ["opportunity_id", "to_stage", "changed_at"]  # one stage change, once
PIPELINE_OF_FORMAT = {"baton": None, "salesforce": "salesforce", "hubspot": "hubspot"}


@dataclass
class ImportReport:
    """What an import did: ``counts`` by kind, the ``rejected`` rows, the files it read."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rejected: list[RowError] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)  # (kind, path)
    skipped: list[str] = field(default_factory=list)
    n_rejected: int = 0

    @property
    def ok(self) -> bool:
        return self.n_rejected == 0

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "counts": dict(self.counts),
            "rejected": self.n_rejected,
            "errors": [{"file": e.file, "line": e.line, "reason": e.reason}
                       for e in self.rejected],
            "files": [{"kind": k, "path": p} for k, p in self.files],
            "skipped": self.skipped,
        }

    def summary(self) -> str:
        c = self.counts
        parts = [
            f"opportunities: {c['opportunities_created']} new, "
            f"{c['opportunities_updated']} updated, {c['opportunities_unchanged']} unchanged",
            f"stage changes: {c['stage_changes_added']} new, "
            f"{c['stage_changes_existing']} already present",
            f"events: {c['events_added']} new, {c['events_existing']} already present",
            f"rejected rows: {self.n_rejected}",
        ]
        return "; ".join(parts)


class _Importer:
    def __init__(self, baton: Baton, fmt: str, on_error: Callable[[RowError], None] | None):
        self.baton = baton
        self.fmt = fmt
        self.resolver = StageResolver(baton.stages, PIPELINE_OF_FORMAT[fmt])
        self.report = ImportReport()
        self.on_error = on_error
        self.seen_opportunities: dict[str, str] = {}
        # opportunity id -> (current stage, stage changes, their times), for blank-stage events
        self.history_cache: dict[str, tuple[str, list, list]] = {}

    # -- helpers ---------------------------------------------------------------------------
    def reject(self, error: RowError) -> None:
        self.report.n_rejected += 1
        self.report.counts["rows_rejected"] += 1
        if len(self.report.rejected) < MAX_KEPT_ERRORS:
            self.report.rejected.append(error)
        if self.on_error is not None:
            self.on_error(error)

    def records(self, items: Iterable) -> Iterator[tuple[int, object]]:
        for item in items:
            if isinstance(item, RowError):
                self.reject(item)
            else:
                yield item

    # -- opportunities ---------------------------------------------------------------------
    def opportunities(self, session: Session, plan: ImportPlan, has_history: bool) -> None:
        accounts: dict[str, tuple[str, str]] = {}
        for path in plan.files["accounts"]:
            found, errors = read_salesforce_accounts(path)
            accounts.update(found)
            for error in errors:
                self.reject(error)
        for path in plan.files["opportunities"]:
            if self.fmt == "baton":
                items = read_baton_opportunities(path, self.resolver)
            elif self.fmt == "salesforce":
                items = read_salesforce_opportunities(path, self.resolver, accounts)
            else:
                items = read_hubspot_deals(path, self.resolver)
            batch: list[tuple[int, OpportunityRecord]] = []
            for line, record in self.records(items):
                assert isinstance(record, OpportunityRecord)
                first_line = self.seen_opportunities.get(record.opportunity_id)
                if first_line is not None:
                    self.reject(RowError(str(path), line, (
                        f"duplicate opportunity_id {record.opportunity_id!r} "
                        f"(already on {first_line})")))
                    continue
                self.seen_opportunities[record.opportunity_id] = f"{path}:{line}"
                batch.append((line, record))
                if len(batch) >= OPPORTUNITY_BATCH:
                    self._upsert_opportunities(session, batch, has_history)
                    batch = []
            self._upsert_opportunities(session, batch, has_history)

    def _upsert_opportunities(self, session: Session, batch, has_history: bool) -> None:
        if not batch:
            return
        ids = [r.opportunity_id for _, r in batch]
        existing = {o.opportunity_id: o for o in session.scalars(
            select(Opportunity).where(Opportunity.opportunity_id.in_(ids)))}
        counts = self.report.counts
        for _, record in batch:
            values = opportunity_columns(record, self.resolver)
            row = existing.get(record.opportunity_id)
            if row is None:
                session.add(Opportunity(opportunity_id=record.opportunity_id, **values))
                counts["opportunities_created"] += 1
                continue
            changed = apply_opportunity_values(row, values)
            if "stage" in changed and not has_history:
                when = values["stage_entered_at"] or utcnow()
                session.add(StageChange(opportunity_id=row.opportunity_id,
                                        from_stage=changed["stage"], to_stage=row.stage,
                                        changed_at=when))
                if row.stage_entered_at != when:
                    row.stage_entered_at = when
            elif "stage" in changed and values["stage_entered_at"] is None:
                row.stage_entered_at = None  # recomputed from the imported history below
            counts["opportunities_updated" if changed else "opportunities_unchanged"] += 1
        session.commit()

    # -- stage history ---------------------------------------------------------------------
    def history(self, session: Session, plan: ImportPlan) -> None:
        sources: list[tuple[Path, Iterable]] = []
        for path in plan.files["stage_history"]:
            if self.fmt == "salesforce":
                sources.append((path, read_salesforce_history(
                    path, self.resolver, self._name_resolver(session))))
            else:
                sources.append((path, read_baton_history(path, self.resolver)))
        if self.fmt == "hubspot":
            for path in plan.files["opportunities"]:
                sources.append((path, read_hubspot_history(path, self.resolver)))
        if not sources:
            return
        known = set(session.scalars(select(Opportunity.opportunity_id)))
        table = StageChange.__table__
        before = session.scalar(select(func.count()).select_from(table)) or 0
        total = 0
        for path, items in sources:
            rows: list[dict] = []
            for line, record in self.records(items):
                assert isinstance(record, StageChangeRecord)
                if record.opportunity_id not in known:
                    self.reject(RowError(str(path), line, (
                        f"unknown opportunity_id {record.opportunity_id!r} (not in the "
                        "opportunities file or the database)")))
                    continue
                rows.append({"opportunity_id": record.opportunity_id,
                             "from_stage": record.from_stage, "to_stage": record.to_stage,
                             "changed_at": record.changed_at})
                total += 1
                if len(rows) >= BATCH_SIZE:
                    insert_ignoring_duplicates(session, table, rows, HISTORY_KEY)
                    session.commit()
                    rows = []
            insert_ignoring_duplicates(session, table, rows, HISTORY_KEY)
            session.commit()
        after = session.scalar(select(func.count()).select_from(table)) or 0
        self.report.counts["stage_changes_added"] += after - before
        self.report.counts["stage_changes_existing"] += total - (after - before)

    def _name_resolver(self, session: Session) -> Callable[[str], str | None]:
        cache: dict[str, str | None] = {}

        def resolve(name: str) -> str | None:
            if name not in cache:
                ids = list(session.scalars(select(Opportunity.opportunity_id).where(
                    Opportunity.name == name).limit(2)))
                cache[name] = ids[0] if len(ids) == 1 else None
            return cache[name]
        return resolve

    def fill_stage_entered(self, session: Session) -> None:
        """Opportunities without ``stage_entered_at``: last move into their stage, else created."""
        last_move = (
            select(func.max(StageChange.changed_at))
            .where(StageChange.opportunity_id == Opportunity.opportunity_id,
                   StageChange.to_stage == Opportunity.stage)
            .scalar_subquery()
        )
        session.execute(
            update(Opportunity)
            .where(Opportunity.stage_entered_at.is_(None),
                   (last_move.is_not(None)) | Opportunity.created_at.is_not(None))
            .values(stage_entered_at=func.coalesce(last_move, Opportunity.created_at))
            .execution_options(synchronize_session=False)
        )
        session.commit()

    # -- events ----------------------------------------------------------------------------
    def events(self, session: Session, plan: ImportPlan) -> None:
        if not plan.files["events"]:
            return
        pipelines = dict(session.execute(
            select(Opportunity.opportunity_id, Opportunity.pipeline)).all())
        assets = set(session.scalars(select(Asset.id)))
        if session.get_bind().dialect.name == "sqlite":
            # A 160 MB page cache holds the event indexes of a 1M-row import in memory,
            # and fewer WAL checkpoints (each one syncs) while the import runs.
            session.connection().exec_driver_sql("PRAGMA cache_size=-163840")
            session.connection().exec_driver_sql("PRAGMA wal_autocheckpoint=16384")
        for path in plan.files["events"]:
            batch: list[tuple[int, EventRecord]] = []
            for line, record in self.records(read_baton_events(path, self.resolver)):
                assert isinstance(record, EventRecord)
                if record.opportunity_id not in pipelines:
                    self.reject(RowError(str(path), line, (
                        f"unknown opportunity_id {record.opportunity_id!r} (import the "
                        "opportunity first)")))
                    continue
                if record.asset_id not in assets:
                    self.reject(RowError(str(path), line, (
                        f"unknown asset_id {record.asset_id!r} (ingest the asset first)")))
                    continue
                batch.append((line, record))
                if len(batch) >= EVENT_BATCH:
                    self._insert_events(session, str(path), batch, pipelines)
                    batch = []
            self._insert_events(session, str(path), batch, pipelines)
        if session.get_bind().dialect.name == "sqlite":
            session.connection().exec_driver_sql("PRAGMA cache_size=-2000")  # the defaults
            session.connection().exec_driver_sql("PRAGMA wal_autocheckpoint=1000")

    def _insert_events(self, session: Session, path: str, batch, pipelines) -> None:
        if not batch:
            return
        counts = self.report.counts
        rows: dict[str, dict] = {}
        lines: dict[str, int] = {}
        blank: set[str] = set()
        for line, record in batch:
            try:
                row = event_columns(record, self.resolver, pipelines[record.opportunity_id])
            except BatonError as exc:
                self.reject(RowError(path, line, str(exc)))
                continue
            prior = rows.get(record.event_id)
            if prior is not None:
                if same_event(prior, row, compare_stage=bool(record.stage)):
                    counts["events_existing"] += 1
                else:
                    self.reject(RowError(path, line, (
                        f"duplicate event_id {record.event_id!r} with different content "
                        f"(first on line {lines[record.event_id]})")))
                continue
            rows[record.event_id] = row
            lines[record.event_id] = line
            if not record.stage:
                blank.add(record.event_id)
        stored_ids = stored_event_ids(session, list(rows)) if rows else []
        if stored_ids:
            cols = [ContentEvent.event_id, ContentEvent.opportunity_id, ContentEvent.asset_id,
                    ContentEvent.event_type, ContentEvent.stage, ContentEvent.occurred_at,
                    ContentEvent.user, ContentEvent.propensity, ContentEvent.recommendation_id]
            for stored in session.execute(select(*cols).where(
                    ContentEvent.event_id.in_(stored_ids))).mappings():
                event_id = stored["event_id"]
                row = rows.pop(event_id)
                if same_event(stored, row, compare_stage=event_id not in blank):
                    counts["events_existing"] += 1
                else:
                    self.reject(RowError(path, lines[event_id], (
                        f"duplicate event_id {event_id!r} with different content "
                        "(an event with this id is already imported)")))
        if blank & rows.keys():
            self._stage_at_time(session, [rows[e] for e in blank if e in rows], pipelines)
        fast_insert(session, ContentEvent.__table__, EVENT_COLUMNS, list(rows.values()),
                    ["event_id"])
        counts["events_added"] += len(rows)
        session.commit()

    def _stage_at_time(self, session: Session, rows: list[dict], pipelines) -> None:
        """Fill stage and buying stage of events that gave none: the deal's stage back then."""
        cache = self.history_cache
        missing = {r["opportunity_id"] for r in rows} - cache.keys()
        if missing:
            if len(cache) + len(missing) > HISTORY_CACHE_SIZE:
                cache.clear()  # bounded memory; events files are usually grouped by deal
            found: dict[str, list] = defaultdict(list)
            for opp, frm, to, when in session.execute(
                select(StageChange.opportunity_id, StageChange.from_stage, StageChange.to_stage,
                       StageChange.changed_at)
                .where(StageChange.opportunity_id.in_(missing))
                .order_by(StageChange.opportunity_id, StageChange.changed_at)
            ).all():
                found[opp].append((when, frm, to))
            for opp, stage in session.execute(
                select(Opportunity.opportunity_id, Opportunity.stage)
                .where(Opportunity.opportunity_id.in_(missing))
            ).all():
                changes = found.get(opp, [])
                cache[opp] = (stage, changes, [c[0] for c in changes])
        for row in rows:
            opp = row["opportunity_id"]
            current, changes, times = cache[opp]
            stage = stage_at(changes, row["occurred_at"], current, times)
            row["stage"] = stage
            try:
                row["buying_stage"] = self.resolver.buying_stage(stage, pipelines[opp])
            except BatonError:
                row["buying_stage"] = None


def import_crm(baton: Baton, paths: Iterable[str | Path], format: str = "baton",
               on_error: Callable[[RowError], None] | None = None) -> ImportReport:
    """Import CRM export files or directories; report counts and every rejected row."""
    plan = plan_import(list(paths), format)
    importer = _Importer(baton, format, on_error)
    report = importer.report
    for error in plan.errors:
        importer.reject(error)
    report.skipped = [str(p) for p in plan.skipped]
    for kind, files in plan.files.items():
        report.files.extend((kind, str(p)) for p in files)
    for key in ("opportunities_created", "opportunities_updated", "opportunities_unchanged",
                "stage_changes_added", "stage_changes_existing", "events_added",
                "events_existing", "rows_rejected"):
        report.counts[key] += 0
    has_history = bool(plan.files["stage_history"]) or (
        format == "hubspot" and any(
            any(c.startswith("date entered") for c in read_header(p) or [])
            for p in plan.files["opportunities"]))
    # Each batch commits; closing the session on an error rolls back the unfinished batch only.
    with baton.sessions() as session:
        importer.opportunities(session, plan, has_history)
        importer.history(session, plan)
        if plan.files["opportunities"] or plan.files["stage_history"]:
            importer.fill_stage_entered(session)
        importer.events(session, plan)
    return report
