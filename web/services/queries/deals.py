"""Deal read models: the filtered opportunity list, the open pipeline (grouped by stage and
as a page), a deal's detail bundle, owners, single deals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from models import ContentEvent, ContentRequest, Opportunity, StageChange
from recommender.crm.formats import StageResolver
from recommender.domain import OPPORTUNITY_STATUSES, utcnow
from recommender.errors import BatonError, NotFoundError, ValidationError
from web.runtime import Baton
from web.services.crm.opportunities import StuckStatus, assess_stuck, stuck_detector, stuck_status
from web.services.queries.library import asset_titles
from web.services.queries.paging import Page, page_of, paged
from web.services.sharing import list_share_links

# Filters matched exactly against one column; ``status`` is also checked, ``stage`` resolved
# through the stage config and ``q`` matched in name, account or id.
EXACT_FILTERS = {
    "buying_stage": Opportunity.buying_stage,
    "owner": Opportunity.owner,
    "industry": Opportunity.industry,
    "pipeline": Opportunity.pipeline,
}
OPPORTUNITY_FILTERS = frozenset({*EXACT_FILTERS, "status", "stage", "q"})
OVERVIEW_SORTS: dict[str, Callable[[dict], Any]] = {
    "days": lambda r: -(r["days_in_stage"] or 0.0),
    "amount": lambda r: -(r["amount"] or 0.0),
    "name": lambda r: r["name"].casefold(),
    "overdue": lambda r: -((r["days_in_stage"] or 0.0) - (r["threshold_days"] or 0.0)),
}

DEAL_SORTS: dict[str, Callable[[dict], Any]] = {
    "stage": lambda r: (r["order"], r["name"].casefold()),
    "days": lambda r: r["days_in_stage"] or 0.0,
    "amount": lambda r: r["amount"] or 0.0,
    "name": lambda r: r["name"].casefold(),
    "stuck": lambda r: (r["stuck"], r["days_in_stage"] or 0.0),
    "owner": lambda r: (r["owner"].casefold(), r["name"].casefold()),
}
RECEIVED_EVENTS = ("shared", "viewed", "helpful", "not_helpful")


def opportunity_query(baton: Baton, filters: Mapping[str, str | None]) -> Select:
    """Return the query of the opportunities matching ``filters`` (empty values are ignored)."""
    unknown = sorted(set(filters) - OPPORTUNITY_FILTERS)
    if unknown:
        raise ValidationError(f"unknown filter(s) {', '.join(unknown)}; expected "
                              f"{', '.join(sorted(OPPORTUNITY_FILTERS))}")
    query = select(Opportunity)
    status = filters.get("status")
    if status:
        if status not in OPPORTUNITY_STATUSES:
            raise ValidationError(f"bad status {status!r}; expected one of "
                                  f"{', '.join(OPPORTUNITY_STATUSES)}")
        query = query.where(Opportunity.status == status)
    for key, column in EXACT_FILTERS.items():
        if filters.get(key):
            query = query.where(column == filters[key])
    stage = filters.get("stage")
    if stage:
        query = query.where(Opportunity.stage == StageResolver(baton.stages).canonical(stage))
    text = filters.get("q")
    if text:
        like = f"%{text}%"
        query = query.where(or_(Opportunity.name.ilike(like), Opportunity.account.ilike(like),
                                Opportunity.opportunity_id.ilike(like)))
    return query


def list_opportunities(baton: Baton, session: Session, filters: Mapping | None = None,
                       page: int = 1, per_page: int = 50) -> tuple[list[Opportunity], int]:
    """Return one page of opportunities matching ``filters``, by id, and the total count."""
    query = opportunity_query(baton, filters or {}).order_by(Opportunity.opportunity_id)
    per_page = max(1, min(int(per_page), baton.settings.page_size_max))
    result = paged(session, query, max(1, int(page)), per_page)
    return result.items, result.total


def _overview_row(opportunity: Opportunity, status: StuckStatus) -> dict:
    return {
        "opportunity_id": opportunity.opportunity_id, "name": opportunity.name,
        "account": opportunity.account, "owner": opportunity.owner,
        "amount": opportunity.amount, "stage": opportunity.stage,
        "buying_stage": opportunity.buying_stage, **asdict(status),
    }


def pipeline_overview(baton: Baton, session: Session, sort: str = "days", owner: str | None = None,
                      stuck_only: bool = False, now: datetime | None = None) -> list[dict]:
    """Group open opportunities by pipeline stage, in pipeline order, with stuck flags."""
    if sort not in OVERVIEW_SORTS:
        raise ValidationError(f"unknown sort {sort!r}; expected one of "
                              f"{', '.join(OVERVIEW_SORTS)}")
    detector = stuck_detector(baton, session)
    now = now or utcnow()
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    query = opportunity_query(baton, {"status": "open", "owner": owner})
    for opportunity in session.scalars(query):
        status = assess_stuck(detector, opportunity, now)
        if stuck_only and not status.stuck:
            continue
        groups[(opportunity.pipeline, opportunity.stage)].append(_overview_row(opportunity, status))
    resolver = StageResolver(baton.stages)
    out = []
    for (pipeline, stage), rows in groups.items():
        rows.sort(key=OVERVIEW_SORTS[sort])
        try:
            found = resolver.find(stage, pipeline)[1]
            order, buying = found.order, found.buying_stage
        except BatonError:
            order, buying = 999, None
        out.append({"pipeline": pipeline, "stage": stage, "buying_stage": buying,
                    "order": order, "count": len(rows),
                    "stuck": sum(1 for r in rows if r["stuck"]), "opportunities": rows})
    out.sort(key=lambda g: (g["pipeline"], g["order"]))
    return out


def pipeline_page(baton: Baton, session: Session, sort: str = "stage", descending: bool = False,
                  stage: str = "", stuck_only: bool = False, owner: str = "", page: int = 1,
                  per_page: int = 25) -> tuple[Page, list[dict]]:
    """Return a sorted page of open deals (dicts) and a per-stage summary of the pipeline."""
    if sort not in DEAL_SORTS:
        raise ValidationError(f"unknown sort {sort!r}; expected one of {', '.join(DEAL_SORTS)}")
    summary: list[dict] = []
    rows: list[dict] = []
    for group in pipeline_overview(baton, session, owner=owner or None):
        amounts = [r["amount"] or 0.0 for r in group["opportunities"]]
        summary.append({"stage": group["stage"], "buying_stage": group["buying_stage"],
                        "count": group["count"], "stuck": group["stuck"],
                        "amount": sum(amounts)})
        rows.extend({**r, "order": group["order"]} for r in group["opportunities"])
    if stage:
        rows = [r for r in rows if r["stage"] == stage]
    if stuck_only:
        rows = [r for r in rows if r["stuck"]]
    rows.sort(key=DEAL_SORTS[sort], reverse=descending)
    return page_of(rows, page, per_page), summary


def find_opportunity(session: Session, opportunity_id: str) -> Opportunity | None:
    """Return the opportunity, or None when there is none with that id."""
    return session.get(Opportunity, opportunity_id)


def known_opportunity(session: Session, opportunity_id: str) -> Opportunity:
    """Return the opportunity or raise ``NotFoundError`` naming it."""
    opp = find_opportunity(session, opportunity_id)
    if opp is None:
        raise NotFoundError(f"unknown opportunity {opportunity_id!r}")
    return opp


def stuck_flag(baton: Baton, session: Session, opp: Opportunity) -> dict:
    """Return the deal's stuck verdict as a plain dict (days in stage, threshold, reason)."""
    return asdict(stuck_status(baton, session, opp))


@dataclass
class DealDetail:
    """Everything the opportunity page shows besides the recommendations."""

    opportunity: Opportunity
    days_in_stage: float | None
    stuck: bool
    stuck_reason: str
    history: list
    received: list
    share_links: list
    requests: list
    titles: dict[str, str]


def deal_detail(baton: Baton, session: Session, opportunity_id: str) -> DealDetail:
    """Return a deal with its stage history, content received, share links and requests."""
    opp = known_opportunity(session, opportunity_id)
    status = stuck_status(baton, session, opp)
    history = list(session.scalars(select(StageChange).where(
        StageChange.opportunity_id == opportunity_id).order_by(StageChange.changed_at)))
    received = list(session.scalars(select(ContentEvent).where(
        ContentEvent.opportunity_id == opportunity_id,
        ContentEvent.event_type.in_(RECEIVED_EVENTS))
        .order_by(ContentEvent.occurred_at.desc(), ContentEvent.id.desc()).limit(100)))
    links = list_share_links(baton, session, opportunity_id)[:50]
    requests = list(session.scalars(select(ContentRequest).where(
        ContentRequest.opportunity_id == opportunity_id).order_by(
        ContentRequest.created_at.desc()).limit(50)))
    titles = asset_titles(session, {e.asset_id for e in received} | {k.asset_id for k in links})
    return DealDetail(opp, status.days_in_stage, bool(status.stuck), status.reason or "",
                      history, received, links, requests, titles)


def known_owners(session: Session) -> list[str]:
    """Return the owners of open deals, for the pipeline filter."""
    return list(session.scalars(select(Opportunity.owner).where(
        Opportunity.status == "open", Opportunity.owner != "").distinct().order_by(
        Opportunity.owner)))
