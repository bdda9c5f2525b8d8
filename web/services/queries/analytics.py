"""Analytics read models for the UI: influence rows, gap cells, funnel, rep feedback.

The analytics services compute over the whole library and CRM history; the UI reuses their
results until a cheap fingerprint of the data (assets, events, requests, deals, model) changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Asset, ContentEvent, ContentRequest, Opportunity
from recommender.learning.analytics import GapCell, InfluenceRow
from web.runtime import Baton
from web.services.learning import analytics
from web.services.queries.library import asset_titles
from web.services.queries.paging import Page, page_of, paged

TOP_RATED = 15
FEEDBACK_KINDS = ("helpful", "not_helpful")


def data_fingerprint(baton: Baton, session: Session) -> tuple:
    """Return a cheap fingerprint of what analytics read: assets, events, requests, model."""
    assets = session.execute(select(func.count(Asset.id), func.max(Asset.updated_at))).one()
    events = session.execute(select(func.count(ContentEvent.id),
                                    func.max(ContentEvent.id))).one()
    requests = session.execute(select(func.count(ContentRequest.id),
                                      func.max(ContentRequest.updated_at))).one()
    deals = session.execute(select(func.count(Opportunity.opportunity_id),
                                   func.max(Opportunity.updated_at))).one()
    model = analytics.current_model(baton)
    return (tuple(assets), tuple(events), tuple(requests), tuple(deals), id(model))


def cached(baton: Baton, session: Session, key: tuple, compute: Callable[[], Any]) -> Any:
    """Return ``compute()``, reused until the data fingerprint changes (analytics pages)."""
    store = baton.cache.setdefault("ui.analytics", {})
    fingerprint = data_fingerprint(baton, session)
    hit = store.get(key)
    if hit is not None and hit[0] == fingerprint:
        return hit[1]
    value = compute()
    if len(store) > 64:
        store.clear()
    store[key] = (fingerprint, value)
    return value


def gap_cells(baton: Baton, session: Session) -> list[GapCell]:
    """Return every gap cell (covered ones included) for the heatmap, cached."""
    return cached(baton, session, ("gaps",),
                  lambda: analytics.gaps(baton, session, include_covered=True))


def _influence_dict(row: InfluenceRow) -> dict:
    return {
        "asset_id": row.asset_id, "title": row.title, "buying_stage": row.buying_stage,
        "effect": row.effect, "lower": row.lower, "upper": row.upper, "support": row.support,
        "naive_used": row.win_rate_used, "naive_unused": row.win_rate_not_used,
        "deals_used": row.deals_used, "verdict": row.verdict, "explanation": row.explanation,
    }


def _influence_table(baton: Baton, session: Session, stage: str) -> dict[str, list[dict]]:
    def compute() -> dict[str, list[dict]]:
        by_asset: dict[str, list[dict]] = {}
        for row in analytics.influence(baton, session, stage=stage or None):
            by_asset.setdefault(row.asset_id, []).append(_influence_dict(row))
        return by_asset

    return cached(baton, session, ("influence", stage), compute)


def influence_rows(baton: Baton, session: Session, stage: str | None = None,
                   asset_id: str | None = None) -> list[dict]:
    """Return influence rows as new plain dicts for the forest plot and tables (empty if none)."""
    table = _influence_table(baton, session, stage or "")
    if asset_id is not None:
        return [dict(r) for r in table.get(asset_id, [])]
    return [dict(r) for rows in table.values() for r in rows]


def influence_page(baton: Baton, session: Session, stage: str, page: int,
                   per_page: int) -> Page:
    """Return a page of influence rows, helping assets first, then by effect, titles filled."""
    rows = influence_rows(baton, session, stage or None)
    titles = asset_titles(session, {r["asset_id"] for r in rows if not r["title"]})
    for row in rows:
        row["title"] = row["title"] or titles.get(row["asset_id"], row["asset_id"])
    order = {"helps": 0, "hurts": 1}
    rows.sort(key=lambda r: (order.get(r["verdict"], 2), -(r["effect"] or 0.0)))
    return page_of(rows, page, per_page)


def funnel_rows(baton: Baton, session: Session) -> list[dict]:
    """Return the funnel per pipeline stage as dicts (entered, advanced, conversion, days)."""
    return [r.to_dict() for r in analytics.funnel(baton, session)]


def feedback_summary(session: Session, page: int = 1, per_page: int = 25) -> tuple[list, Page]:
    """Return helpful/not-helpful counts per asset (most rated first) and recent feedback."""
    rows = session.execute(
        select(ContentEvent.asset_id, ContentEvent.event_type, func.count())
        .where(ContentEvent.event_type.in_(FEEDBACK_KINDS))
        .group_by(ContentEvent.asset_id, ContentEvent.event_type))
    per_asset: dict[str, dict[str, int]] = {}
    for asset_id, kind, n in rows:
        per_asset.setdefault(asset_id, {"helpful": 0, "not_helpful": 0})[kind] = int(n)
    titles = asset_titles(session, set(per_asset))
    most_rated = sorted(per_asset.items(),
                        key=lambda item: (-(item[1]["helpful"] + item[1]["not_helpful"]), item[0]))
    summary = [{"asset_id": a, "title": titles.get(a, a), **c} for a, c in most_rated[:TOP_RATED]]
    recent = paged(session, select(ContentEvent).where(ContentEvent.event_type.in_(FEEDBACK_KINDS))
                   .order_by(ContentEvent.occurred_at.desc(), ContentEvent.id.desc()),
                   page, per_page)
    return summary, recent
