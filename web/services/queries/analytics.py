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
from web.runtime import Baton
from web.services.queries.pages import Page, _paged, asset_titles, optional_service

TOP_RATED = 15


def _pick(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value is not None:
            return value
    return default


def data_fingerprint(baton: Baton, session: Session) -> tuple:
    """Return a cheap fingerprint of what analytics read: assets, events, requests, model."""
    assets = session.execute(select(func.count(Asset.id), func.max(Asset.updated_at))).one()
    events = session.execute(select(func.count(ContentEvent.id),
                                    func.max(ContentEvent.id))).one()
    requests = session.execute(select(func.count(ContentRequest.id),
                                      func.max(ContentRequest.updated_at))).one()
    deals = session.execute(select(func.count(Opportunity.opportunity_id),
                                   func.max(Opportunity.updated_at))).one()
    current = optional_service("analytics", "current_model")
    model = current(baton) if current is not None else None
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


def gap_cells(baton: Baton, session: Session) -> list:
    """Return every gap cell (covered ones included) for the heatmap, cached."""
    gaps = optional_service("analytics", "gaps")
    if gaps is None:
        return []
    return cached(baton, session, ("gaps",),
                  lambda: gaps(baton, session, include_covered=True))


def _influence_dict(row: Any) -> dict:
    return {
        "asset_id": _pick(row, "asset_id", default=""),
        "title": _pick(row, "title", default=""),
        "buying_stage": _pick(row, "buying_stage", "stage", default=""),
        "effect": _pick(row, "effect"),
        "lower": _pick(row, "lower"),
        "upper": _pick(row, "upper"),
        "support": _pick(row, "support", "n", default=0),
        "naive_used": _pick(row, "win_rate_used", "naive_rate"),
        "naive_unused": _pick(row, "win_rate_not_used", "naive_rate_unused"),
        "deals_used": _pick(row, "deals_used", default=0),
        "verdict": _pick(row, "verdict", default=""),
        "explanation": _pick(row, "explanation", default=""),
    }


def _influence_table(baton: Baton, session: Session, stage: str) -> dict[str, list[dict]]:
    influence = optional_service("analytics", "influence")
    if influence is None:
        return {}

    def compute() -> dict[str, list[dict]]:
        by_asset: dict[str, list[dict]] = {}
        for row in influence(baton, session, stage=stage or None):
            data = _influence_dict(row)
            by_asset.setdefault(data["asset_id"], []).append(data)
        return by_asset

    return cached(baton, session, ("influence", stage), compute)


def influence_rows(baton: Baton, session: Session, stage: str | None = None,
                   asset_id: str | None = None) -> list[dict]:
    """Return influence rows as new plain dicts for the forest plot and tables (empty if none)."""
    table = _influence_table(baton, session, stage or "")
    if asset_id is not None:
        return [dict(r) for r in table.get(asset_id, [])]
    return [dict(r) for rows in table.values() for r in rows]


def funnel_rows(baton: Baton, session: Session) -> list[dict]:
    """Return the funnel per pipeline stage as dicts (entered, advanced, conversion, days)."""
    funnel = optional_service("analytics", "funnel")
    if funnel is None:
        return []
    return [r if isinstance(r, dict) else r.to_dict() for r in funnel(baton, session)]


def feedback_summary(session: Session, page: int = 1, per_page: int = 25) -> tuple[list, Page]:
    """Return helpful/not-helpful counts per asset (most rated first) and recent feedback."""
    kinds = ("helpful", "not_helpful")
    rows = session.execute(
        select(ContentEvent.asset_id, ContentEvent.event_type, func.count())
        .where(ContentEvent.event_type.in_(kinds))
        .group_by(ContentEvent.asset_id, ContentEvent.event_type))
    per_asset: dict[str, dict[str, int]] = {}
    for asset_id, kind, n in rows:
        per_asset.setdefault(asset_id, {"helpful": 0, "not_helpful": 0})[kind] = int(n)
    titles = asset_titles(session, set(per_asset))
    summary = sorted(({"asset_id": a, "title": titles.get(a, a), **c}
                      for a, c in per_asset.items()),
                     key=lambda r: (-(r["helpful"] + r["not_helpful"]), r["asset_id"]))[:TOP_RATED]
    recent = _paged(session, select(ContentEvent).where(ContentEvent.event_type.in_(kinds))
                    .order_by(ContentEvent.occurred_at.desc(), ContentEvent.id.desc()),
                    page, per_page)
    return summary, recent
