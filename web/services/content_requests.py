"""Content requests: a rep asks marketing for content no asset meets; marketing works the queue."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import ContentRequest, Opportunity
from models.feedback import REQUEST_STATUSES
from recommender.errors import NotFoundError, ValidationError
from web.runtime import Baton
from web.services.queries.paging import Page

MAX_NEED = 2000


def _term(value: str | None, names: list[str], what: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if names and value not in names:
        raise ValidationError(f"unknown {what} {value!r}; expected one of {', '.join(names)}")
    return value


def create_request(baton: Baton, session: Session, need: str, requested_by: str = "",
                   opportunity_id: str | None = None, buying_stage: str | None = None,
                   persona: str | None = None, industry: str | None = None) -> ContentRequest:
    """Queue a content request for marketing, validated against the vocabularies."""
    need = (need or "").strip()
    if not need:
        raise ValidationError("need: say what content is missing")
    if len(need) > MAX_NEED:
        raise ValidationError(f"need: at most {MAX_NEED} characters, got {len(need)}")
    stages = baton.stages
    if opportunity_id and session.get(Opportunity, opportunity_id) is None:
        raise NotFoundError(f"unknown opportunity {opportunity_id!r}")
    row = ContentRequest(
        opportunity_id=opportunity_id or None, requested_by=requested_by, need=need,
        buying_stage=_term(buying_stage, stages.buying_stage_names, "buying stage"),
        persona=_term(persona, [t.name for t in stages.personas], "persona"),
        industry=_term(industry, [t.name for t in stages.industries], "industry"),
        status="open")
    session.add(row)
    session.commit()
    return row


def set_request_status(baton: Baton, session: Session, request_id: int,
                       status: str) -> ContentRequest:
    """Move a content request to ``status`` (open, planned, done, declined)."""
    if status not in REQUEST_STATUSES:
        raise ValidationError(f"unknown status {status!r}; expected one of "
                              f"{', '.join(REQUEST_STATUSES)}")
    row = session.get(ContentRequest, request_id)
    if row is None:
        raise NotFoundError(f"unknown content request {request_id}")
    row.status = status
    session.commit()
    return row


def list_requests(baton: Baton, session: Session, status: str = "", page: int = 1,
                  per_page: int = 25) -> Page:
    """Return a page of content requests, newest first, optionally of one status."""
    query = select(ContentRequest)
    if status:
        if status not in REQUEST_STATUSES:
            raise ValidationError(f"unknown status {status!r}; expected one of "
                                  f"{', '.join(REQUEST_STATUSES)}")
        query = query.where(ContentRequest.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(session.scalars(query.order_by(ContentRequest.created_at.desc(),
                                                ContentRequest.id.desc())
                                 .limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, per_page, int(total))


def request_counts(session: Session) -> dict[str, int]:
    """Return the number of requests per status."""
    rows = session.execute(select(ContentRequest.status, func.count())
                           .group_by(ContentRequest.status))
    counts = dict.fromkeys(REQUEST_STATUSES, 0)
    counts.update({s: int(n) for s, n in rows})
    return counts
