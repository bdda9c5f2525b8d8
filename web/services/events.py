"""Record content events (recommended, shared, viewed, helpful, not_helpful), idempotently."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Asset, ContentEvent, Opportunity
from recommender.domain import EVENT_TYPES, utc_naive, utcnow
from recommender.errors import ConflictError, UnknownStageError, ValidationError
from web.runtime import Baton

EVENT_KEYS = ("event_id", "opportunity_id", "asset_id", "event_type", "stage", "occurred_at",
              "user", "propensity", "recommendation_id")
MAX_BATCH = 1000


@dataclass
class EventsResult:
    """What a call recorded: ids of ``created`` events and of ``duplicates`` (replays)."""

    created: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"created": self.created, "duplicates": self.duplicates}


def _text(raw: Mapping, key: str, where: str, required: bool = False, limit: int = 200) -> str:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(f"{where}.{key}: is required")
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValidationError(f"{where}.{key}: must be a string")
    value = str(value).strip()
    if len(value) > limit:
        raise ValidationError(f"{where}.{key}: longer than {limit} characters")
    return value


def _when(raw: Mapping, where: str) -> datetime | None:
    value = raw.get("occurred_at")
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return utc_naive(value)
    try:
        text = str(value).strip().replace("Z", "+00:00")
        return utc_naive(datetime.fromisoformat(text))
    except ValueError:
        raise ValidationError(
            f"{where}.occurred_at: {value!r} is not an ISO 8601 date-time"
        ) from None


def _propensity(raw: Mapping, where: str) -> float | None:
    value = raw.get("propensity")
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not (0.0 < number <= 1.0):
        raise ValidationError(f"{where}.propensity: {value!r} is not a probability in (0, 1]")
    return number


def _same(row: ContentEvent, event: dict) -> bool:
    """True when a stored event matches a replayed one on every field the replay gives."""
    if (row.opportunity_id, row.asset_id, row.event_type) != (
        event["opportunity_id"], event["asset_id"], event["event_type"]
    ):
        return False
    for key in ("stage", "user", "recommendation_id"):
        if event["given"].get(key) and getattr(row, key) != event[key]:
            return False
    if event["given"].get("occurred_at") and row.occurred_at != event["occurred_at"]:
        return False
    if event["propensity"] is not None:
        return row.propensity is not None and abs(row.propensity - event["propensity"]) < 1e-9
    return True


def _validate(baton: Baton, raw: object, index: int, key: str | None, opps: dict) -> dict:
    where = f"events[{index}]"
    if not isinstance(raw, Mapping):
        raise ValidationError(f"{where}: must be an object")
    unknown = set(raw) - set(EVENT_KEYS)
    if unknown:
        raise ValidationError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    event_type = _text(raw, "event_type", where, required=True)
    if event_type not in EVENT_TYPES:
        raise ValidationError(
            f"{where}.event_type: {event_type!r} is not one of {', '.join(EVENT_TYPES)}"
        )
    opportunity_id = _text(raw, "opportunity_id", where, required=True)
    asset_id = _text(raw, "asset_id", where, required=True)
    event_id = _text(raw, "event_id", where)
    if not event_id:
        event_id = f"{key}:{index}" if key else uuid.uuid4().hex
    opp = opps.get(opportunity_id)
    stage = _text(raw, "stage", where, limit=100)
    buying = None
    if stage:
        try:
            buying = baton.stages.resolve_buying_stage(stage, opp.pipeline if opp else None)
        except UnknownStageError as exc:
            raise ValidationError(f"{where}.stage: {exc}") from None
    elif opp is not None:
        stage, buying = opp.stage, opp.buying_stage
    occurred = _when(raw, where)
    return {
        "event_id": event_id,
        "opportunity_id": opportunity_id,
        "asset_id": asset_id,
        "event_type": event_type,
        "stage": stage,
        "buying_stage": buying,
        "occurred_at": occurred or utcnow(),
        "user": _text(raw, "user", where, limit=200),
        "propensity": _propensity(raw, where),
        "recommendation_id": _text(raw, "recommendation_id", where, limit=64) or None,
        "given": {k: raw.get(k) not in (None, "") for k in EVENT_KEYS},
        "where": where,
    }


def record_events(baton: Baton, session: Session, events: list[dict] | dict,
                  idempotency_key: str | None = None, user: str = "") -> EventsResult:
    """Validate and record one event or a batch, all or nothing; replays never double count.

    An event without ``event_id`` gets ``<idempotency_key>:<index>`` (or a random id when no key
    is given). A replayed id with the same content is reported as a duplicate; the same id with
    different content raises ``ConflictError``. ``user`` fills events that name no user.
    """
    batch = [events] if isinstance(events, Mapping) else events
    if not isinstance(batch, list) or not batch:
        raise ValidationError("events: expected one event object or a non-empty list of them")
    if len(batch) > MAX_BATCH:
        raise ValidationError(f"events: at most {MAX_BATCH} events per call, got {len(batch)}")
    key = (idempotency_key or "").strip() or None
    if key and len(key) > 150:
        raise ValidationError("Idempotency-Key: longer than 150 characters")
    opp_ids = {str(e.get("opportunity_id", "")).strip() for e in batch if isinstance(e, Mapping)}
    opps = {o.opportunity_id: o for o in
            session.scalars(select(Opportunity).where(Opportunity.opportunity_id.in_(opp_ids)))}
    parsed = [_validate(baton, raw, i, key, opps) for i, raw in enumerate(batch)]
    asset_ids = {e["asset_id"] for e in parsed}
    known_assets = set(session.scalars(select(Asset.id).where(Asset.id.in_(asset_ids))))
    for event in parsed:
        if event["opportunity_id"] not in opps:
            raise ValidationError(
                f"{event['where']}.opportunity_id: unknown opportunity {event['opportunity_id']!r}"
            )
        if event["asset_id"] not in known_assets:
            raise ValidationError(f"{event['where']}.asset_id: unknown asset {event['asset_id']!r}")
        if not event["user"]:
            event["user"] = user
    for attempt in range(2):
        try:
            return _store(session, parsed)
        except IntegrityError:
            # A concurrent request stored one of these ids first: check again as replays.
            session.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _store(session: Session, parsed: list[dict]) -> EventsResult:
    ids = [e["event_id"] for e in parsed]
    existing = {r.event_id: r for r in
                session.scalars(select(ContentEvent).where(ContentEvent.event_id.in_(ids)))}
    result = EventsResult()
    pending: dict[str, dict] = {}
    for event in parsed:
        event_id = event["event_id"]
        stored = existing.get(event_id)
        earlier = pending.get(event_id)
        if stored is not None:
            same = _same(stored, event)
        elif earlier is not None:
            same = _same_pending(earlier, event)
        else:
            pending[event_id] = event
            result.created.append(event_id)
            continue
        if not same:
            raise ConflictError(
                f"{event['where']}.event_id: {event_id!r} was already recorded with "
                "different content"
            )
        result.duplicates.append(event_id)
    for event in pending.values():
        session.add(ContentEvent(**{k: event[k] for k in (
            "event_id", "opportunity_id", "asset_id", "event_type", "stage", "buying_stage",
            "occurred_at", "user", "propensity", "recommendation_id")}))
    session.commit()
    return result


def _same_pending(earlier: dict, event: dict) -> bool:
    fields = ("opportunity_id", "asset_id", "event_type", "stage", "user", "propensity",
              "recommendation_id")
    if any(earlier[f] != event[f] for f in fields):
        return False
    both_timed = earlier["given"]["occurred_at"] and event["given"]["occurred_at"]
    return not both_timed or earlier["occurred_at"] == event["occurred_at"]
