"""Library read models, shared by the UI and the API: asset lists, search, facets, detail.

A list is filtered in SQL (``asset_query``); a search ranks by meaning and then applies the
same status and review filters. Cards load only the columns a card shows.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, String, cast, func, select
from sqlalchemy.orm import Session, load_only

from models import Asset, ContentEvent
from recommender.domain import utcnow
from recommender.errors import NotFoundError, ValidationError
from web.runtime import Baton
from web.services.content.index import search_assets
from web.services.queries.paging import Page, count, paged

FACET_TTL = 30.0
LIBRARY_STATUSES = ("active", "archived", "retired")
UI_MAX_SEARCH = 200  # the library page ranks at most this many hits


@dataclass
class LibraryFilters:
    """The library's facets; empty strings mean "any" (an empty ``status`` too)."""

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

    def admits(self, asset: Asset) -> bool:
        """Say whether an asset passes the status and review filters (search hits)."""
        return ((not self.status or asset.status == self.status)
                and (not self.needs_review or asset.stage_source == "auto"))


@dataclass
class AssetMatch:
    """A search result: the asset, its cosine score and the passage that matched best."""

    asset: Asset
    score: float
    passage: str


# Only columns stored before ``text`` in the row: SQLite then never reads the overflow pages
# that hold an asset's text and vector, which keeps list pages fast on a large library.
_CARD_COLUMNS = (Asset.id, Asset.title, Asset.type, Asset.stage, Asset.stage_source,
                 Asset.stage_confidence, Asset.personas, Asset.industries, Asset.products,
                 Asset.status, Asset.expires, Asset.owner, Asset.review_by, Asset.url)


def _select_assets(cards: bool) -> Select:
    query = select(Asset)
    return query.options(load_only(*_CARD_COLUMNS)) if cards else query


def _json_has(column, value: str):
    # Lists of slugs are stored as JSON text on SQLite and json on PostgreSQL; a quoted
    # substring match works on both without dialect-specific operators.
    return cast(column, String).like(f'%"{value}"%')


def asset_query(filters: LibraryFilters, cards: bool = True) -> Select:
    """Return the SELECT of assets matching the filters (``q`` aside), unordered."""
    query = _select_assets(cards)
    for value, column in ((filters.status, Asset.status), (filters.stage, Asset.stage),
                          (filters.type, Asset.type)):
        if value:
            query = query.where(column == value)
    for value, tags in ((filters.persona, Asset.personas), (filters.industry, Asset.industries),
                        (filters.product, Asset.products)):
        if value:
            query = query.where(_json_has(tags, value))
    if filters.needs_review:
        query = query.where(Asset.stage_source == "auto")
    return query


def asset_page(session: Session, filters: LibraryFilters, page: int, per_page: int,
               cards: bool = True) -> Page:
    """Return a page of the assets matching the filters, by title."""
    return paged(session, asset_query(filters, cards).order_by(Asset.title, Asset.id),
                 page, per_page)


def _assets_by_id(session: Session, ids: list[str], cards: bool) -> dict[str, Asset]:
    # Fetch by primary key only: a status predicate here makes SQLite scan the status index.
    return {a.id: a for a in session.scalars(_select_assets(cards).where(Asset.id.in_(ids)))}


def search_page(baton: Baton, session: Session, filters: LibraryFilters, page: int,
                per_page: int, max_hits: int, cards: bool = True) -> Page:
    """Return a page of ``AssetMatch`` ranked by meaning for ``filters.q``.

    At most ``max_hits`` hits are ranked; when that many match, ``total`` counts every asset
    the filters admit.
    """
    k = min(page * per_page, max_hits)
    offset = (page - 1) * per_page
    hits = search_assets(baton, session, filters.q.strip(), k=k, stage=filters.stage or None,
                         type=filters.type or None, persona=filters.persona or None,
                         industry=filters.industry or None,
                         include_unrecommendable=filters.status != "active") if offset < k else []
    found = _assets_by_id(session, [h.asset_id for h in hits], cards=True)
    kept = [h for h in hits if h.asset_id in found and filters.admits(found[h.asset_id])]
    window = kept[offset:offset + per_page]
    rows = found if cards else _assets_by_id(session, [h.asset_id for h in window], cards)
    items = [AssetMatch(rows[h.asset_id], float(h.score), h.passage) for h in window]
    total = len(kept) if len(hits) < k else count(session, asset_query(filters))
    return Page(items, page, per_page, total)


def library_page(baton: Baton, session: Session, filters: LibraryFilters, page: int = 1,
                 per_page: int = 24) -> tuple[Page, dict[str, str]]:
    """Return a page of asset cards and, for a search, each hit's quoted passage by asset id."""
    if not filters.q.strip():
        return asset_page(session, filters, page, per_page), {}
    found = search_page(baton, session, filters, page, per_page, UI_MAX_SEARCH)
    passages = {m.asset.id: m.passage or "" for m in found.items}
    return Page([m.asset for m in found.items], page, per_page, found.total), passages


def listed_asset(session: Session, asset_id: str) -> Asset:
    """Return an asset of the API's library; unknown and retired (deleted) assets raise."""
    asset = session.get(Asset, asset_id)
    if asset is None or asset.status == "retired":
        raise NotFoundError(f"unknown asset {asset_id!r}")
    return asset


def library_facets(baton: Baton, session: Session) -> dict[str, list[tuple[str, str, int]]]:
    """Return facet options as ``(value, label, count)``; counts over active assets.

    Cached per process until the number of assets changes, and at most ``FACET_TTL`` seconds
    (an edit that moves an asset between stages shows in the counts within that time).
    """
    total = session.scalar(select(func.count()).select_from(Asset))
    hit = baton.cache.get("ui.facets")
    if hit is not None and hit[0] == total and time.monotonic() - hit[1] < FACET_TTL:
        return hit[2]
    facets = _library_facets(baton, session)
    baton.cache["ui.facets"] = (total, time.monotonic(), facets)
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
    events = paged(session, select(ContentEvent).where(ContentEvent.asset_id == asset_id)
                   .order_by(ContentEvent.occurred_at.desc(), ContentEvent.id.desc()),
                   page, per_page)
    return AssetDetail(asset, list(asset.passages[:20]), counts, events)


def review_lists(session: Session, which: str, page: int = 1, per_page: int = 25,
                 today: date | None = None) -> Page:
    """Return active assets due for review, expired, or auto-tagged (``which``)."""
    today = today or utcnow().date()
    query = _select_assets(cards=True).where(Asset.status == "active")
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
    return paged(session, query, page, per_page)


def asset_titles(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """Return ``{asset_id: title}`` for the given ids."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.execute(select(Asset.id, Asset.title).where(Asset.id.in_(wanted)))
    return {asset_id: title for asset_id, title in rows}
