"""The library as cached matrices for search and ranking, and semantic search over it.

``get_library_index`` rebuilds only when a cheap fingerprint changes (asset count, newest
``updated_at``, the embedding model and today's date, since expiry is by day), so every gunicorn
worker picks up changes on its next call. Vectors of two models are never mixed: when any
stored asset was embedded with another model than the configured one, the index refuses with a
message that says to run ``baton reembed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Asset, Passage
from recommender.content.asset_files import resolve_type, vocabulary_aliases
from recommender.content.embedding import DEFAULT_MODEL, HASHING_MODEL, load_embedder
from recommender.content.search import best_passage, cosine_top_k
from recommender.domain import slugify, utcnow
from recommender.errors import MetadataError, ModelError, ValidationError
from web.runtime import Baton

_CACHE = "library.index"


def model_name(baton: Baton) -> str:
    """Return the name vectors are tagged with, loading the real model only when unavoidable."""
    injected = getattr(baton, "_embedder", None)
    if injected is not None:
        return injected.name
    spec = (baton.settings.embedding_model or DEFAULT_MODEL).strip()
    if spec.startswith(HASHING_MODEL):
        return load_embedder(spec).name
    if spec in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        return DEFAULT_MODEL
    if Path(spec).is_dir():
        return Path(spec).name
    return spec


@dataclass(eq=False)
class LibraryIndex:
    """Per-asset arrays (row i = ``asset_ids[i]``) and passage arrays, for one library version."""

    fingerprint: tuple
    model: str
    asset_ids: list[str]
    asset_vectors: np.ndarray  # (n, d) float32 unit rows
    titles: list[str]
    urls: list[str | None]
    stage: list[str]
    stage_source: list[str]
    stage_confidence: list[float | None]
    type: list[str]
    personas: list[list[str]]
    industries: list[list[str]]
    products: list[list[str]]
    expires: list[date | None]
    status: list[str]
    recommendable: np.ndarray  # (n,) bool: active and not expired
    passage_vectors: np.ndarray  # (m, d)
    passage_asset: np.ndarray  # (m,) int64 row into the asset arrays
    passage_texts: list[str]
    passage_offsets: np.ndarray  # (n + 1,) passages of asset i are offsets[i]:offsets[i + 1]
    position: dict[str, int] = field(default_factory=dict)
    _arrays: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.asset_ids)

    def term_mask(self, column: str, value: str) -> np.ndarray:
        """Return the (n,) mask of assets whose ``column`` is (or, for lists, holds) ``value``.

        Masks are cached per index, so a filtered search costs no Python loop over assets.
        """
        key = (column, value)
        mask = self._arrays.get(key)
        if mask is None:
            values = getattr(self, column)
            if column in ("personas", "industries", "products"):
                mask = np.fromiter((value in terms for terms in values), bool, len(values))
            else:
                mask = np.fromiter((v == value for v in values), bool, len(values))
            if len(self._arrays) > 256:
                self._arrays.clear()
            self._arrays[key] = mask
        return mask


@dataclass
class SearchHit:
    """One search result: the asset, its cosine score and the passage that matched best."""

    asset_id: str
    title: str
    score: float
    passage: str
    stage: str = ""
    type: str = ""
    url: str | None = None

    def to_dict(self) -> dict:
        return {"asset_id": self.asset_id, "title": self.title, "score": round(self.score, 4),
                "stage": self.stage, "type": self.type, "url": self.url,
                "passage": self.passage}


def _fingerprint(session: Session, model: str) -> tuple:
    # Two queries: SQLite answers each from an index (max() only when it is alone).
    count = session.scalar(select(func.count()).select_from(Asset))
    newest = session.scalar(select(func.max(Asset.updated_at)))
    return (int(count), newest, model, utcnow().date())


def check_single_model(session: Session, model: str) -> None:
    """Raise ``ModelError`` when a stored asset was embedded with a model other than ``model``."""
    rows = session.execute(
        select(Asset.embedding_model, func.count(Asset.id))
        .where(Asset.status != "retired", Asset.embedding_model != model)
        .group_by(Asset.embedding_model)
    ).all()
    if rows:
        others = ", ".join(f"{n} with {name!r}" for name, n in rows)
        raise ModelError(
            f"the library holds assets embedded with another model ({others}) but the "
            f"configured model is {model!r}; run `baton reembed` to re-embed them"
        )


def build_index(session: Session, model: str, fingerprint: tuple = ()) -> LibraryIndex:
    """Read every non-retired asset and its passages into a ``LibraryIndex``."""
    check_single_model(session, model)
    columns = (Asset.id, Asset.title, Asset.url, Asset.stage, Asset.stage_source,
               Asset.stage_confidence, Asset.type, Asset.personas, Asset.industries,
               Asset.products, Asset.expires, Asset.status, Asset.embedding_dim,
               Asset.embedding)
    assets = session.execute(
        select(*columns).where(Asset.status != "retired", Asset.embedding.is_not(None))
        .order_by(Asset.id)
    ).all()
    dims = {a.embedding_dim for a in assets}
    if len(dims) > 1:
        raise ModelError(f"stored vectors have several dimensions {sorted(dims)}; "
                         "run `baton reembed --all`")
    d = dims.pop() if dims else 0
    position = {a.id: i for i, a in enumerate(assets)}
    vectors = np.frombuffer(b"".join(a.embedding for a in assets), dtype=np.float32).reshape(
        len(assets), d).copy()
    rows = session.execute(
        select(Passage.asset_id, Passage.text, Passage.embedding)
        .join(Asset, Asset.id == Passage.asset_id)
        .where(Asset.status != "retired", Passage.embedding.is_not(None))
        .order_by(Passage.asset_id, Passage.position)
    ).all()
    rows = [r for r in rows if r[0] in position and len(r[2]) == 4 * d]
    passage_vectors = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(
        len(rows), d).copy()
    passage_asset = np.asarray([position[r[0]] for r in rows], dtype=np.int64)
    offsets = np.searchsorted(passage_asset, np.arange(len(assets) + 1))
    today = utcnow().date()
    return LibraryIndex(
        fingerprint=fingerprint, model=model,
        asset_ids=[a.id for a in assets], asset_vectors=vectors,
        titles=[a.title for a in assets], urls=[a.url for a in assets],
        stage=[a.stage for a in assets], stage_source=[a.stage_source for a in assets],
        stage_confidence=[a.stage_confidence for a in assets],
        type=[a.type for a in assets],
        personas=[list(a.personas or []) for a in assets],
        industries=[list(a.industries or []) for a in assets],
        products=[list(a.products or []) for a in assets],
        expires=[a.expires for a in assets], status=[a.status for a in assets],
        recommendable=np.asarray(
            [a.status == "active" and (a.expires is None or a.expires >= today) for a in assets],
            dtype=bool),
        passage_vectors=passage_vectors, passage_asset=passage_asset,
        passage_texts=[r[1] for r in rows], passage_offsets=offsets, position=position,
    )


def get_library_index(baton: Baton, session: Session) -> LibraryIndex:
    """Return the cached library index, rebuilt when the library or the model changed."""
    model = model_name(baton)
    fingerprint = _fingerprint(session, model)
    cached = baton.cache.get(_CACHE)
    if cached is not None and cached.fingerprint == fingerprint:
        return cached
    index = build_index(session, model, fingerprint)
    baton.cache[_CACHE] = index
    return index


def filter_mask(baton: Baton, index: LibraryIndex, stage: str | None = None,
                type: str | None = None, persona: str | None = None,
                industry: str | None = None, include_unrecommendable: bool = False) -> np.ndarray:
    """Return the (n,) boolean mask of assets passing the filters; bad filter values raise."""
    mask = np.ones(len(index), dtype=bool) if include_unrecommendable else \
        index.recommendable.copy()
    if stage:
        buying = baton.stages.resolve_buying_stage(stage)
        if buying is None:
            raise ValidationError(f"stage {stage!r} is a closing stage with no buying stage")
        mask &= index.term_mask("stage", buying)
    if type:
        try:
            wanted = resolve_type(type, baton.stages)
        except MetadataError as exc:
            raise ValidationError(str(exc)) from None
        mask &= index.term_mask("type", wanted)
    for value, column in ((persona, "personas"), (industry, "industries")):
        if value:
            slug = slugify(value)
            slug = vocabulary_aliases(getattr(baton.stages, column)).get(slug, slug)
            mask &= index.term_mask(column, slug)
    return mask


def search_index(index: LibraryIndex, query_vector: np.ndarray, k: int,
                 mask: np.ndarray | None) -> list[SearchHit]:
    """Return the top-``k`` hits of ``query_vector`` over ``index`` within ``mask``."""
    if len(index) == 0:
        return []
    rows, scores = cosine_top_k(query_vector, index.asset_vectors, k, mask)
    hits = []
    for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
        span = np.arange(index.passage_offsets[row], index.passage_offsets[row + 1])
        best = best_passage(query_vector, index.passage_vectors, span)
        hits.append(SearchHit(
            asset_id=index.asset_ids[row], title=index.titles[row], score=float(score),
            passage=index.passage_texts[best] if best >= 0 else "",
            stage=index.stage[row], type=index.type[row], url=index.urls[row],
        ))
    return hits


def search_assets(baton: Baton, session: Session, query: str, k: int = 10,
                  stage: str | None = None, type: str | None = None,
                  persona: str | None = None, industry: str | None = None,
                  include_unrecommendable: bool = False) -> list[SearchHit]:
    """Search the library by meaning: exact cosine over asset vectors, with filters."""
    if not query or not query.strip():
        raise ValidationError("search query is empty")
    if int(k) < 1:
        raise ValidationError(f"k must be at least 1, not {k}")
    index = get_library_index(baton, session)
    mask = filter_mask(baton, index, stage, type, persona, industry, include_unrecommendable)
    if len(index) == 0 or not mask.any():
        return []
    vector = baton.embedder.encode([query.strip()])[0]
    if vector.shape[0] != index.asset_vectors.shape[1]:
        raise ModelError(
            f"the query model gives {vector.shape[0]}-dimensional vectors but the library holds "
            f"{index.asset_vectors.shape[1]}; run `baton reembed`"
        )
    return search_index(index, vector, int(k), mask)
