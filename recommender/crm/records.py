"""From a parsed CRM record or an API payload to the column values of one opportunity or event.

The CSV readers (``formats``, ``vendors``) turn rows into ``OpportunityRecord``s and
``EventRecord``s; the API sends a JSON object with any subset of an opportunity's fields. Both
end here: values validated, the stage resolved to its pipeline, the status checked against it.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from recommender.crm.csv_reading import parse_amount, parse_datetime
from recommender.crm.formats import StageResolver, status_for
from recommender.domain import (
    EventRecord,
    OpportunityRecord,
    PipelineStage,
    StageConfig,
    utc_naive,
)
from recommender.errors import ValidationError

TEXT_FIELDS = ("name", "account", "industry", "persona", "owner", "notes")
TIME_FIELDS = ("created_at", "stage_entered_at", "closed_at")
UPSERT_FIELDS = (*TEXT_FIELDS, *TIME_FIELDS, "amount", "stage", "status", "products",
                 "pipeline")


# --- opportunities from the API --------------------------------------------------------------

def parse_opportunity_fields(data: Mapping[str, object]) -> dict:
    """Validate an API payload's opportunity fields (any subset of ``UPSERT_FIELDS``).

    Parameters
    ----------
    data : field name to JSON value; ``opportunity_id`` is allowed and ignored

    Returns
    -------
    dict
        The given fields as column values: text trimmed (``notes`` kept as sent, None as ""),
        times as naive UTC, ``amount`` a float or None, ``products`` a list of names.
    """
    unknown = sorted(set(data) - set(UPSERT_FIELDS) - {"opportunity_id"})
    if unknown:
        raise ValidationError(
            f"unknown field(s) {', '.join(unknown)}; expected {', '.join(UPSERT_FIELDS)}")
    out: dict = {}
    for key, value in data.items():
        if key == "opportunity_id":
            continue
        if key in TEXT_FIELDS or key in ("stage", "status", "pipeline"):
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise ValidationError(f"{key} must be a string")
            out[key] = value.strip() if key != "notes" else value
        elif key in TIME_FIELDS:
            out[key] = _time(value, key)
        elif key == "amount":
            out[key] = _amount(value)
        elif key == "products":
            if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
                raise ValidationError("products must be a list of strings")
            out[key] = [p.strip() for p in value if p.strip()]
    return out


def _time(value: object, key: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return utc_naive(value) if value else None
    if not isinstance(value, str):
        raise ValidationError(f"{key} must be an ISO 8601 string, not {type(value).__name__}")
    return parse_datetime(value, key)


def _amount(value: object) -> float | None:
    if value is None or isinstance(value, str):
        return parse_amount(value, "amount")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"amount must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValidationError(f"amount {value} must be a non-negative number")
    return float(value)


@dataclass(frozen=True)
class Placement:
    """Where an updated opportunity stands: pipeline, stage, whether it moved, its status."""

    pipeline: str
    stage: PipelineStage
    moved: bool
    status: str


def place_update(stages: StageConfig, stage: str = "", pipeline: str = "", status: str = "",
                 stored: tuple[str, str, str] | None = None) -> Placement:
    """Resolve the stage and status of an upsert against what is stored.

    Parameters
    ----------
    stages : the stage config
    stage, pipeline, status : as sent; blank keeps the stored value
    stored : ``(pipeline, stage, status)`` of the stored opportunity; None when it is new

    Returns
    -------
    Placement
        A status left blank is kept unless the stage moved or is terminal (a deal lost at an
        open stage stays lost on a field update); otherwise it follows the stage.
    """
    old_pipeline, old_stage, old_status = stored if stored is not None else (None, None, "")
    pipeline_name = pipeline or old_pipeline
    resolver = StageResolver(stages, pipeline_name)
    found_pipeline, found = resolver.find(stage or old_stage or "", pipeline_name)
    moved = stored is None or found.name != old_stage
    if not status and not moved and found.outcome is None:
        status = old_status
    return Placement(found_pipeline, found, moved, status_for(found, status or ""))


# --- imported records ------------------------------------------------------------------------

def opportunity_columns(record: OpportunityRecord, resolver: StageResolver) -> dict:
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


def event_columns(record: EventRecord, resolver: StageResolver, pipeline: str) -> dict:
    """Return the column values of an event; its stage is resolved in the deal's pipeline."""
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


def same_event(stored: Mapping, row: Mapping, compare_stage: bool = True) -> bool:
    """True when two events with one id carry the same content."""
    if any(stored[k] != row[k] for k in _EVENT_FIELDS):
        return False
    return not compare_stage or stored["stage"] == row["stage"]


def stage_at(changes: list[tuple[datetime, str | None, str]], when: datetime,
             current: str, times: list[datetime] | None = None) -> str:
    """Return the stage an opportunity was in at ``when`` given its sorted stage changes.

    Parameters
    ----------
    changes : ``(changed_at, from_stage, to_stage)``, oldest first
    when : the moment asked about
    current : the stage now (the answer when there are no changes)
    times : the changes' times, when the caller keeps them

    Returns
    -------
    str
    """
    if not changes:
        return current
    i = bisect_right(times if times is not None else [c[0] for c in changes], when)
    if i > 0:
        return changes[i - 1][2]
    return changes[0][1] or changes[0][2]
