"""Deal read models: the open pipeline page, a deal's detail bundle, owners, single deals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ContentEvent, ContentRequest, Opportunity, StageChange
from recommender.errors import NotFoundError, ValidationError
from web.runtime import Baton
from web.services.crm.opportunities import pipeline_overview, stuck_status
from web.services.queries.library import asset_titles
from web.services.queries.paging import Page, page_of
from web.services.sharing import list_share_links

DEAL_SORTS: dict[str, Callable[[dict], Any]] = {
    "stage": lambda r: (r["order"], r["name"].casefold()),
    "days": lambda r: r["days_in_stage"] or 0.0,
    "amount": lambda r: r["amount"] or 0.0,
    "name": lambda r: r["name"].casefold(),
    "stuck": lambda r: (r["stuck"], r["days_in_stage"] or 0.0),
    "owner": lambda r: (r["owner"].casefold(), r["name"].casefold()),
}
RECEIVED_EVENTS = ("shared", "viewed", "helpful", "not_helpful")


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
