"""Opportunities: upsert from the CRM, stage history and stuck deals."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Opportunity, StageChange
from recommender.crm.formats import StageResolver
from recommender.crm.records import parse_opportunity_fields, place_update
from recommender.crm.stuck import DAY_SECONDS, StuckDetector, completed_visits
from recommender.domain import utcnow
from recommender.errors import BatonError, NotFoundError, ValidationError
from web.runtime import Baton
from web.services.crm.rows import set_changed


def get_opportunity(session: Session, opportunity_id: str) -> Opportunity:
    """Return the opportunity or raise ``NotFoundError``."""
    row = session.get(Opportunity, opportunity_id)
    if row is None:
        raise NotFoundError(f"no opportunity with id {opportunity_id!r}")
    return row


def opportunity_history(session: Session, opportunity_id: str) -> list[StageChange]:
    """Return an opportunity's stage changes, oldest first."""
    get_opportunity(session, opportunity_id)
    return list(session.scalars(
        select(StageChange).where(StageChange.opportunity_id == opportunity_id)
        .order_by(StageChange.changed_at, StageChange.id)))


def upsert_opportunity(baton: Baton, session: Session, opportunity_id: str,
                       data: dict) -> tuple[Opportunity, bool]:
    """Create or update an opportunity from the CRM; a stage change appends to its history."""
    opportunity_id = (opportunity_id or "").strip()
    if not opportunity_id or len(opportunity_id) > 200:
        raise ValidationError("opportunity_id must be 1 to 200 characters")
    values = parse_opportunity_fields(data)
    row = session.get(Opportunity, opportunity_id)
    created = row is None
    if created and not values.get("stage"):
        raise ValidationError("stage is required to create an opportunity")
    # Resolve and check everything before touching the session.
    place = place_update(baton.stages, values.pop("stage", ""), values.pop("pipeline", ""),
                         values.pop("status", ""),
                         None if row is None else (row.pipeline, row.stage, row.status))
    now = utcnow()
    old_stage = None if row is None else row.stage
    if row is None:
        row = Opportunity(opportunity_id=opportunity_id, products=[])
        session.add(row)
    entered = values.pop("stage_entered_at", None)
    closed_at = values.pop("closed_at", None)
    set_changed(row, values)
    if created and row.created_at is None:
        row.created_at = now
    if row.pipeline != place.pipeline:
        row.pipeline = place.pipeline
    if place.moved:
        when = entered or (row.created_at if created else None) or now
        session.add(StageChange(opportunity_id=opportunity_id, from_stage=old_stage,
                                to_stage=place.stage.name, changed_at=when))
        row.stage, row.buying_stage = place.stage.name, place.stage.buying_stage
        row.stage_entered_at = when
    elif entered is not None and row.stage_entered_at != entered:
        row.stage_entered_at = entered
    if row.status != place.status:
        row.status = place.status
    if place.status == "open":
        row.closed_at = None
    elif closed_at is not None or row.closed_at is None:
        row.closed_at = closed_at or (entered if place.moved and entered else now)
    session.commit()
    return row, created


# --- stuck deals ---------------------------------------------------------------------------

@dataclass(frozen=True)
class StuckStatus:
    """Whether an opportunity is stuck, with the days behind the verdict."""

    stuck: bool
    days_in_stage: float | None
    threshold_days: float | None
    reason: str


def _history_fingerprint(session: Session) -> tuple:
    return tuple(session.execute(
        select(func.count(StageChange.id), func.max(StageChange.id))).one())


def stuck_detector(baton: Baton, session: Session) -> StuckDetector:
    """Return the stuck detector fitted on the stage history; refit when the history grows."""
    fingerprint = _history_fingerprint(session)
    cached = baton.cache.get("crm.stuck_detector")
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    resolver = StageResolver(baton.stages)
    groups: dict[str, str] = {}
    for p in baton.stages.pipelines:
        for s in p.stages:
            if s.buying_stage:
                groups.setdefault(s.name, s.buying_stage)
    created = dict(session.execute(
        select(Opportunity.opportunity_id, Opportunity.created_at)).all())
    pipelines = dict(session.execute(
        select(Opportunity.opportunity_id, Opportunity.pipeline)).all())
    per_opp: dict[str, list] = defaultdict(list)
    for opp, frm, to, when in session.execute(
        select(StageChange.opportunity_id, StageChange.from_stage, StageChange.to_stage,
               StageChange.changed_at).order_by(StageChange.opportunity_id,
                                                StageChange.changed_at, StageChange.id)
    ).all():
        per_opp[opp].append((frm, to, when))

    visits: list[tuple[str, float]] = []
    for opp, changes in per_opp.items():
        pipeline = pipelines.get(opp)

        def rank(name: str, pipeline=pipeline):
            try:
                found = resolver.find(name, pipeline)[1]
            except BatonError:
                return None
            return found.order, found.outcome

        visits.extend(completed_visits([(created.get(opp), changes)], rank))
    settings = baton.settings
    detector = StuckDetector(percentile=settings.stuck_percentile,
                             fallback_days=settings.stuck_fallback_days,
                             stage_groups=groups).fit(visits)
    baton.cache["crm.stuck_detector"] = (fingerprint, detector)
    return detector


def assess_stuck(detector: StuckDetector, opportunity: Opportunity,
                 now: datetime) -> StuckStatus:
    """Say whether ``opportunity`` is stuck at ``now`` by a fitted ``detector``."""
    if opportunity.status != "open":
        return StuckStatus(False, None, None, f"closed ({opportunity.status})")
    entered = opportunity.stage_entered_at or opportunity.created_at
    if entered is None:
        return StuckStatus(False, None, None, "no stage entry date recorded")
    days = max(0.0, (now - entered).total_seconds() / DAY_SECONDS)
    stuck, threshold, basis = detector.assess(opportunity.stage, days)
    verdict = "stuck" if stuck else "on track"
    reason = (f"{verdict}: {days:.0f} days in {opportunity.stage}; deals that advanced usually "
              f"took up to {threshold:.0f} days ({basis})")
    return StuckStatus(stuck, round(days, 1), round(threshold, 1), reason)


def stuck_status(baton: Baton, session: Session, opportunity: Opportunity,
                 now: datetime | None = None) -> StuckStatus:
    """Say whether an open opportunity has been in its stage longer than advancing deals did."""
    return assess_stuck(stuck_detector(baton, session), opportunity, now or utcnow())
