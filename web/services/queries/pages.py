"""Read-only queries that only the browser UI needs: paged lists, facets, detail bundles.

Every list is paged (``Page``); page sizes are clamped. Services from other areas are called
when present (``optional_service``) so each page degrades to a clear empty state instead of
failing while an area is not installed.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session, load_only

from models import ApiKey, Asset, ContentEvent, ContentRequest, Opportunity, StageChange, User
from models import learning as learning_models
from recommender.domain import utcnow
from recommender.errors import NotFoundError, ValidationError
from web.runtime import Baton

MAX_PER_PAGE = 100
FACET_TTL = 30.0
LIBRARY_STATUSES = ("active", "archived", "retired")
DEAL_SORTS = ("stage", "days", "amount", "name", "stuck", "owner")


@dataclass
class Page:
    """One page of a list: ``items``, the 1-based ``page``, ``per_page`` and ``total``."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def clamp_page(page: Any, per_page: Any = 20) -> tuple[int, int]:
    """Return a valid (page, per_page) from raw query values; bad values raise clearly."""
    try:
        page_n, per_n = int(page or 1), int(per_page or 20)
    except (TypeError, ValueError):
        raise ValidationError(f"page and per_page must be integers, got {page!r}, "
                              f"{per_page!r}") from None
    return max(1, page_n), min(MAX_PER_PAGE, max(1, per_n))


def optional_service(module: str, name: str) -> Callable | None:
    """Return ``web.services.<module>.<name>`` when that area is installed, else None."""
    try:
        mod = importlib.import_module(f"web.services.{module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"web.services.{module}":
            raise
        return None
    return getattr(mod, name, None)


def _paged(session: Session, query, page: int, per_page: int) -> Page:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, per_page, int(total or 0))


def _json_has(column, value: str):
    # Lists of slugs are stored as JSON text on SQLite and json on PostgreSQL; a quoted
    # substring match works on both without dialect-specific operators.
    return cast(column, String).like(f'%"{value}"%')


# --- Library -------------------------------------------------------------------------------

@dataclass
class LibraryFilters:
    """The library's facets; empty strings mean "any"."""

    q: str = ""
    stage: str = ""
    type: str = ""
    persona: str = ""
    industry: str = ""
    product: str = ""
    status: str = "active"
    needs_review: bool = False

    def active(self) -> dict[str, str]:
        data = {k: v for k, v in vars(self).items() if v and k not in ("needs_review",)}
        if self.needs_review:
            data["needs_review"] = "1"
        return data


# Only columns stored before ``text`` in the row: SQLite then never reads the overflow pages
# that hold an asset's text and vector, which keeps list pages fast on a large library.
_CARD_COLUMNS = (Asset.id, Asset.title, Asset.type, Asset.stage, Asset.stage_source,
                 Asset.stage_confidence, Asset.personas, Asset.industries, Asset.products,
                 Asset.status, Asset.expires, Asset.owner, Asset.review_by, Asset.url)


def _library_query(filters: LibraryFilters):
    query = select(Asset).options(load_only(*_CARD_COLUMNS))
    if filters.status:
        query = query.where(Asset.status == filters.status)
    if filters.stage:
        query = query.where(Asset.stage == filters.stage)
    if filters.type:
        query = query.where(Asset.type == filters.type)
    if filters.persona:
        query = query.where(_json_has(Asset.personas, filters.persona))
    if filters.industry:
        query = query.where(_json_has(Asset.industries, filters.industry))
    if filters.product:
        query = query.where(_json_has(Asset.products, filters.product))
    if filters.needs_review:
        query = query.where(Asset.stage_source == "auto")
    return query


def library_page(baton: Baton, session: Session, filters: LibraryFilters, page: int = 1,
                 per_page: int = 24) -> tuple[Page, dict[str, str]]:
    """Return a page of asset cards and, for a search, each hit's quoted passage by asset id."""
    if filters.q.strip():
        search = optional_service("library", "search_assets")
        if search is None:
            raise ValidationError("semantic search is not available: the library service is "
                                  "not installed")
        k = min(page * per_page, 200)
        hits = search(baton, session, filters.q.strip(), k=k, stage=filters.stage or None,
                      type=filters.type or None, persona=filters.persona or None,
                      industry=filters.industry or None,
                      include_unrecommendable=filters.status != "active")
        ids = [h.asset_id for h in hits]
        # Fetch by primary key only: a status predicate here makes SQLite scan the status index.
        rows = {a.id: a for a in session.scalars(
            select(Asset).options(load_only(*_CARD_COLUMNS)).where(Asset.id.in_(ids)))}
        ordered = [rows[i] for i in ids if i in rows and (
            not filters.status or rows[i].status == filters.status) and (
            not filters.needs_review or rows[i].stage_source == "auto")]
        passages = {h.asset_id: getattr(h, "passage", "") or "" for h in hits}
        start = (page - 1) * per_page
        return Page(ordered[start:start + per_page], page, per_page, len(ordered)), passages
    query = _library_query(filters).order_by(Asset.title, Asset.id)
    return _paged(session, query, page, per_page), {}


def library_facets(baton: Baton, session: Session) -> dict[str, list[tuple[str, str, int]]]:
    """Return facet options as ``(value, label, count)``; counts over active assets.

    Cached per process until the number of assets changes, and at most ``FACET_TTL`` seconds
    (an edit that moves an asset between stages shows in the counts within that time).
    """
    count = session.scalar(select(func.count()).select_from(Asset))
    hit = baton.cache.get("ui.facets")
    if hit is not None and hit[0] == count and time.monotonic() - hit[1] < FACET_TTL:
        return hit[2]
    facets = _library_facets(baton, session)
    baton.cache["ui.facets"] = (count, time.monotonic(), facets)
    return facets


def _library_facets(baton: Baton, session: Session) -> dict[str, list[tuple[str, str, int]]]:
    stages = baton.stages
    active = Asset.status == "active"

    def counts(column) -> dict[str, int]:
        rows = session.execute(select(column, func.count()).where(active).group_by(column))
        return {value: int(n) for value, n in rows}

    stage_counts, type_counts = counts(Asset.stage), counts(Asset.type)
    status_counts = {s: int(n) for s, n in session.execute(
        select(Asset.status, func.count()).group_by(Asset.status))}
    type_terms = [(t.name, t.label) for t in stages.asset_types] or [
        (t, t.replace("_", " ")) for t in sorted(type_counts)]
    return {
        "stage": [(s.name, s.label, stage_counts.get(s.name, 0)) for s in stages.buying_stages],
        "type": [(n, label, type_counts.get(n, 0)) for n, label in type_terms],
        "persona": [(t.name, t.label, -1) for t in stages.personas],
        "industry": [(t.name, t.label, -1) for t in stages.industries],
        "product": [(t.name, t.label, -1) for t in stages.products],
        "status": [(s, s.title(), status_counts.get(s, 0)) for s in LIBRARY_STATUSES],
    }


@dataclass
class AssetDetail:
    """Everything the asset page shows."""

    asset: Asset
    passages: list
    event_counts: dict[str, int]
    events: Page


def asset_detail(baton: Baton, session: Session, asset_id: str, page: int = 1,
                 per_page: int = 20) -> AssetDetail:
    """Return an asset with its passages, event counts and event history."""
    asset = session.get(Asset, asset_id)
    if asset is None:
        raise NotFoundError(f"unknown asset {asset_id!r}")
    counts = {kind: int(n) for kind, n in session.execute(
        select(ContentEvent.event_type, func.count()).where(ContentEvent.asset_id == asset_id)
        .group_by(ContentEvent.event_type))}
    events = _paged(session, select(ContentEvent).where(ContentEvent.asset_id == asset_id)
                    .order_by(ContentEvent.occurred_at.desc(), ContentEvent.id.desc()),
                    page, per_page)
    return AssetDetail(asset, list(asset.passages[:20]), counts, events)


def review_lists(session: Session, which: str, page: int = 1, per_page: int = 25,
                 today: date | None = None) -> Page:
    """Return active assets due for review, expired, or auto-tagged (``which``)."""
    today = today or utcnow().date()
    query = select(Asset).options(load_only(*_CARD_COLUMNS)).where(Asset.status == "active")
    if which == "due":
        query = query.where(Asset.review_by.is_not(None), Asset.review_by <= today)
        query = query.order_by(Asset.review_by, Asset.id)
    elif which == "expired":
        query = query.where(Asset.expires.is_not(None), Asset.expires < today)
        query = query.order_by(Asset.expires, Asset.id)
    elif which == "auto":
        query = query.where(Asset.stage_source == "auto")
        query = query.order_by(Asset.stage_confidence.asc().nulls_first(), Asset.id)
    else:
        raise ValidationError(f"unknown review list {which!r}; expected due, expired or auto")
    return _paged(session, query, page, per_page)


# --- Deals ---------------------------------------------------------------------------------

def _stuck(baton: Baton, session: Session, opp: Opportunity) -> tuple[float | None, bool, str]:
    status_fn = optional_service("crm", "stuck_status")
    if status_fn is None:
        return None, False, ""
    status = status_fn(baton, session, opp)
    return status.days_in_stage, bool(status.stuck), status.reason or ""


def pipeline_page(baton: Baton, session: Session, sort: str = "stage", descending: bool = False,
                  stage: str = "", stuck_only: bool = False, owner: str = "", page: int = 1,
                  per_page: int = 25) -> tuple[Page, list[dict]]:
    """Return a sorted page of open deals (dicts) and a per-stage summary of the pipeline."""
    if sort not in DEAL_SORTS:
        raise ValidationError(f"unknown sort {sort!r}; expected one of {', '.join(DEAL_SORTS)}")
    overview = optional_service("crm", "pipeline_overview")
    groups = [] if overview is None else overview(baton, session, owner=owner or None)
    summary, rows = [], []
    for group in groups:
        amounts = [r["amount"] or 0.0 for r in group["opportunities"]]
        summary.append({"stage": group["stage"], "buying_stage": group["buying_stage"],
                        "count": group["count"], "stuck": group["stuck"],
                        "amount": sum(amounts)})
        rows.extend({**r, "order": group["order"]} for r in group["opportunities"])
    if stage:
        rows = [r for r in rows if r["stage"] == stage]
    if stuck_only:
        rows = [r for r in rows if r["stuck"]]
    keys: dict[str, Callable[[dict], Any]] = {
        "stage": lambda r: (r["order"], r["name"].casefold()),
        "days": lambda r: r["days_in_stage"] or 0.0,
        "amount": lambda r: r["amount"] or 0.0,
        "name": lambda r: r["name"].casefold(),
        "stuck": lambda r: (r["stuck"], r["days_in_stage"] or 0.0),
        "owner": lambda r: (r["owner"].casefold(), r["name"].casefold()),
    }
    rows.sort(key=keys[sort], reverse=descending)
    start = (page - 1) * per_page
    return Page(rows[start:start + per_page], page, per_page, len(rows)), summary


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
    opp = session.get(Opportunity, opportunity_id)
    if opp is None:
        raise NotFoundError(f"unknown opportunity {opportunity_id!r}")
    days, stuck, reason = _stuck(baton, session, opp)
    history = list(session.scalars(select(StageChange).where(
        StageChange.opportunity_id == opportunity_id).order_by(StageChange.changed_at)))
    received = list(session.scalars(select(ContentEvent).where(
        ContentEvent.opportunity_id == opportunity_id,
        ContentEvent.event_type.in_(("shared", "viewed", "helpful", "not_helpful")))
        .order_by(ContentEvent.occurred_at.desc(), ContentEvent.id.desc()).limit(100)))
    list_links = optional_service("sharing", "list_share_links")
    links = list_links(baton, session, opportunity_id)[:50] if list_links else []
    requests = list(session.scalars(select(ContentRequest).where(
        ContentRequest.opportunity_id == opportunity_id).order_by(
        ContentRequest.created_at.desc()).limit(50)))
    ids = {e.asset_id for e in received} | {link.asset_id for link in links}
    titles = asset_titles(session, ids)
    return DealDetail(opp, days, stuck, reason, history, received, links, requests, titles)


def asset_titles(session: Session, ids: Sequence[str] | set[str]) -> dict[str, str]:
    """Return ``{asset_id: title}`` for the given ids."""
    if not ids:
        return {}
    rows = session.execute(select(Asset.id, Asset.title).where(Asset.id.in_(list(ids))))
    return {asset_id: title for asset_id, title in rows}


# --- Settings ------------------------------------------------------------------------------

def users_page(session: Session, page: int = 1, per_page: int = 25) -> Page:
    """Return a page of users by e-mail."""
    return _paged(session, select(User).order_by(User.email), page, per_page)


def api_keys_page(session: Session, page: int = 1, per_page: int = 25) -> Page:
    """Return a page of API keys, newest first (hashes only; keys are never shown again)."""
    return _paged(session, select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc()),
                  page, per_page)


def set_user_active(session: Session, user_id: int, active: bool) -> User:
    """Activate or deactivate a user (a deactivated user cannot sign in)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"unknown user {user_id}")
    user.active = active
    session.commit()
    return user


def last_training_run(baton: Baton, session: Session) -> Any:
    """Return the newest training run when the learning area records them, else None."""
    run_model = getattr(learning_models, "TrainingRun", None)
    if run_model is None:
        return None
    return session.scalar(select(run_model).order_by(run_model.id.desc()).limit(1))


def known_owners(session: Session) -> list[str]:
    """Return the owners of open deals, for the pipeline filter."""
    return [o for o in session.scalars(select(Opportunity.owner).where(
        Opportunity.status == "open", Opportunity.owner != "").distinct().order_by(
        Opportunity.owner))]
