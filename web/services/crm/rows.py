"""Database writes of the CRM import: batch inserts that skip duplicates, updates of stored rows.

Turning records into column values is the core's job (``recommender.crm.records``).
"""

from __future__ import annotations

from operator import itemgetter

from sqlalchemy import DateTime
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import Opportunity
from recommender.domain import utcnow

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


def insert_ignoring_duplicates(session: Session, table, rows: list[dict],
                               conflict: list[str]) -> None:
    """Insert ``rows`` into ``table``; rows that clash on the ``conflict`` columns are skipped."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        session.execute(
            sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict), rows)
    elif dialect == "postgresql":
        session.execute(
            postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict), rows)
    else:  # pragma: no cover - other databases: rely on the pre-checks
        session.execute(table.insert(), rows)


def stored_event_ids(session: Session, ids: list[str]) -> list[str]:
    """Return which of ``ids`` are stored, through the driver (the common answer: none)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        result = connection.exec_driver_sql(
            "SELECT event_id FROM content_events WHERE event_id = ANY(%s)", (ids,))
    else:
        marks = ", ".join(["?"] * len(ids))
        result = connection.exec_driver_sql(
            f"SELECT event_id FROM content_events WHERE event_id IN ({marks})", tuple(ids))
    return [r[0] for r in result]


# Blank values in an export never erase what is stored (a report may omit columns); these
# columns are always taken as given.
ALWAYS_SET = {"pipeline", "stage", "buying_stage", "status"}


def apply_opportunity_values(row: Opportunity, values: dict) -> dict:
    """Set an imported opportunity's changed columns; return ``{column: old value}``."""
    reopened = values["status"] == "open" and row.status != "open"
    given = {}
    for key, value in values.items():
        if key not in ALWAYS_SET and value in (None, "", []):
            if not (key == "closed_at" and reopened):
                continue
        if key == "stage_entered_at" and value is None:
            continue
        given[key] = value
    return set_changed(row, given)


def set_changed(row: Opportunity, values: dict) -> dict:
    """Set the columns whose value differs from ``values``; return ``{column: old value}``.

    Unchanged columns are not touched, so re-sending the same data writes nothing.
    """
    changed = {}
    for key, value in values.items():
        old = getattr(row, key)
        if old != value:
            changed[key] = old
            setattr(row, key, value)
    return changed
