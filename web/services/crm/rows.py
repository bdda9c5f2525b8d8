"""Row-level helpers of the CRM import: column values, comparisons, the fast batch insert."""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from operator import itemgetter

from sqlalchemy import DateTime
from sqlalchemy.orm import Session

from models import Opportunity
from recommender.crm.formats import StageResolver
from recommender.domain import EventRecord, OpportunityRecord, utcnow

EVENT_COLUMNS = ("event_id", "opportunity_id", "asset_id", "event_type", "stage", "buying_stage",
                 "occurred_at", "user", "propensity", "recommendation_id", "created_at")


def fast_insert(session: Session, table, columns: tuple[str, ...], rows: list[dict],
                conflict: list[str]) -> None:
    """Insert many rows straight through the driver's ``executemany``, skipping duplicates.

    The SQLAlchemy statement layer costs more per row than SQLite's insert itself, so large
    imports build the ``INSERT ... ON CONFLICT DO NOTHING`` once and hand the driver plain
    tuples. Datetimes are passed in the form SQLAlchemy stores them on SQLite.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name not in ("sqlite", "postgresql"):  # pragma: no cover
        session.execute(table.insert(), rows)
        return
    quote = dialect.identifier_preparer.quote
    placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
           f"VALUES ({', '.join([placeholder] * len(columns))}) "
           f"ON CONFLICT ({', '.join(quote(c) for c in conflict)}) DO NOTHING")
    now = utcnow()
    for row in rows:
        row.setdefault("created_at", now)
    getter = itemgetter(*columns)
    if dialect.name == "sqlite":
        times = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, DateTime)]
        params = []
        for row in rows:
            values = list(getter(row))
            for i in times:
                if values[i] is not None:
                    values[i] = values[i].isoformat(" ", "microseconds")
            params.append(tuple(values))
    else:
        params = [getter(row) for row in rows]
    connection.exec_driver_sql(sql, params)


def stage_at(changes: list[tuple[datetime, str | None, str]], when: datetime,
             current: str, times: list[datetime] | None = None) -> str:
    """Return the stage an opportunity was in at ``when`` given its sorted stage changes.

    ``times`` (the changes' times) may be passed in when the caller keeps them.
    """
    if not changes:
        return current
    i = bisect_right(times if times is not None else [c[0] for c in changes], when)
    if i > 0:
        return changes[i - 1][2]
    return changes[0][1] or changes[0][2]


def opportunity_values(record: OpportunityRecord, resolver: StageResolver) -> dict:
    """Return the column values of an imported opportunity (pipeline and buying stage resolved)."""
    pipeline, stage = resolver.find(record.stage)
    return {
        "name": record.name, "account": record.account, "industry": record.industry,
        "persona": record.persona, "amount": record.amount, "owner": record.owner,
        "created_at": record.created_at, "pipeline": pipeline, "stage": stage.name,
        "buying_stage": stage.buying_stage, "stage_entered_at": record.stage_entered_at,
        "status": record.status, "closed_at": record.closed_at, "notes": record.notes,
        "products": list(record.products),
    }


# Blank values in an export never erase what is stored (a report may omit columns); these
# columns are always taken as given.
ALWAYS_SET = {"pipeline", "stage", "buying_stage", "status"}


def apply_opportunity_values(row: Opportunity, values: dict) -> dict:
    """Set changed columns on ``row``; return ``{column: old value}`` for what changed."""
    changed = {}
    reopened = values["status"] == "open" and row.status != "open"
    for key, value in values.items():
        if key not in ALWAYS_SET and value in (None, "", []):
            if not (key == "closed_at" and reopened):
                continue
        if key == "stage_entered_at" and value is None:
            continue
        old = getattr(row, key)
        if old != value:
            changed[key] = old
            setattr(row, key, value)
    return changed


def event_row(record: EventRecord, resolver: StageResolver, pipeline: str) -> dict:
    """Return the insert values of an event; its stage is resolved in the deal's pipeline."""
    stage, buying = "", None
    if record.stage:
        stage, buying = resolver.event_stage(record.stage, pipeline)
    return {
        "event_id": record.event_id, "opportunity_id": record.opportunity_id,
        "asset_id": record.asset_id, "event_type": record.event_type, "stage": stage,
        "buying_stage": buying, "occurred_at": record.occurred_at, "user": record.user,
        "propensity": record.propensity, "recommendation_id": record.recommendation_id,
    }


_EVENT_FIELDS = ("opportunity_id", "asset_id", "event_type", "occurred_at", "user",
                 "propensity", "recommendation_id")


def same_event(stored, row: dict, compare_stage: bool = True) -> bool:
    """True when two events with one id carry the same content."""
    if any(stored[k] != row[k] for k in _EVENT_FIELDS):
        return False
    return not compare_stage or stored["stage"] == row["stage"]
