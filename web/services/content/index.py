"""The library arrays of this process: read from the database, cached, and searched by meaning.

One cache, one invalidation rule. The cached ``LibraryArrays`` are served as they are while

* no service of this process wrote to the library of that database since they were built
  (``invalidate_library``, called by every service that writes assets), and
* their fingerprint (asset count, newest ``updated_at``, the embedding model and today's date,
  since expiry is by day) was checked less than ``REFRESH_SECONDS`` ago;

otherwise the fingerprint is queried again and the arrays rebuilt when it changed. So this
process sees its own writes at once and every other gunicorn worker's within
``REFRESH_SECONDS``; assets about to be served are re-checked one by one in the
recommendations service anyway. Vectors of two models are never mixed: when any stored asset was
embedded with another model than the configured one, reading refuses with a message that says
to run ``baton reembed``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Asset, Passage
from recommender.content.asset_files import resolve_type, vocabulary_aliases
from recommender.content.embedding import DEFAULT_MODEL, HASHING_MODEL, load_embedder
from recommender.content.library_arrays import LibraryArrays, SearchHit
from recommender.domain import slugify, utcnow
from recommender.errors import MetadataError, ModelError, ValidationError
from web.runtime import Baton

_CACHE = "library.arrays"
# How long a checked library version is trusted before its fingerprint is queried again. The
# fingerprint query scans the assets table, so checking it on every request would dominate the
# recommend path.
REFRESH_SECONDS = 2.0
# Library writes made by this process, per database URL: every ``Baton`` of the process on that
# database sees them at its next read.
_WRITES: dict[str, int] = {}
_WRITES_LOCK = threading.Lock()


@dataclass(frozen=True)
class _Cached:
    arrays: LibraryArrays
    fingerprint: tuple
    writes: int
    checked_at: float


def model_name(baton: Baton) -> str:
    """Return the name vectors are tagged with, loading the real model only when unavoidable."""
    loaded = baton.loaded_embedder
    if loaded is not None:
        return loaded.name
    spec = (baton.settings.embedding_model or DEFAULT_MODEL).strip()
    if spec.startswith(HASHING_MODEL):
        return load_embedder(spec).name
    if spec in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        return DEFAULT_MODEL
    if Path(spec).is_dir():
        return Path(spec).name
    return spec


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


def read_library(session: Session, model: str) -> LibraryArrays:
    """Read every non-retired asset and its passages into ``LibraryArrays``."""
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
    passages = [(asset_id, text, blob) for asset_id, text, blob in rows
                if blob is not None and asset_id in position and len(blob) == 4 * d]
    passage_vectors = np.frombuffer(b"".join(p[2] for p in passages), dtype=np.float32).reshape(
        len(passages), d).copy()
    today = utcnow().date()  # the one place expiry is applied; the cache is rebuilt daily
    return LibraryArrays(
        [a.id for a in assets], vectors, [a.stage for a in assets], [a.type for a in assets],
        passage_vectors=passage_vectors,
        passage_asset=np.asarray([position[p[0]] for p in passages], dtype=np.int64),
        passage_texts=[p[1] for p in passages],
        stage_confidence=[a.stage_confidence for a in assets],
        personas=[list(a.personas or []) for a in assets],
        industries=[list(a.industries or []) for a in assets],
        products=[list(a.products or []) for a in assets],
        recommendable=np.asarray(
            [a.status == "active" and (a.expires is None or a.expires >= today) for a in assets],
            dtype=bool),
        stage_source=[a.stage_source for a in assets],
        titles=[a.title for a in assets], urls=[a.url for a in assets],
        expires=[a.expires for a in assets], status=[a.status for a in assets],
    )


def _fingerprint(session: Session, model: str) -> tuple:
    # Two queries: SQLite answers each from an index (max() only when it is alone).
    count = session.scalar(select(func.count()).select_from(Asset))
    newest = session.scalar(select(func.max(Asset.updated_at)))
    return (int(count or 0), newest, model, utcnow().date())


def _writes(baton: Baton) -> int:
    return _WRITES.get(str(baton.engine.url), 0)


def invalidate_library(baton: Baton) -> None:
    """Make every reader of this process rebuild the library arrays after a write to assets."""
    key = str(baton.engine.url)
    with _WRITES_LOCK:
        _WRITES[key] = _WRITES.get(key, 0) + 1


def get_library_arrays(baton: Baton, session: Session) -> LibraryArrays:
    """Return the cached library arrays, rebuilt when the library or the model changed."""
    cached: _Cached | None = baton.cache.get(_CACHE)
    now = time.monotonic()
    writes = _writes(baton)
    if cached is not None and cached.writes == writes and now - cached.checked_at < \
            REFRESH_SECONDS:
        return cached.arrays
    model = model_name(baton)
    fingerprint = _fingerprint(session, model)
    if cached is not None and cached.writes == writes and cached.fingerprint == fingerprint:
        arrays = cached.arrays
    else:
        arrays = read_library(session, model)
    baton.cache[_CACHE] = _Cached(arrays, fingerprint, writes, now)
    return arrays


def filter_mask(baton: Baton, library: LibraryArrays, stage: str | None = None,
                type: str | None = None, persona: str | None = None,
                industry: str | None = None, include_unrecommendable: bool = False) -> np.ndarray:
    """Return the (n,) boolean mask of assets passing the filters; bad filter values raise."""
    mask = np.ones(len(library), dtype=bool) if include_unrecommendable else \
        library.recommendable.copy()
    if stage:
        buying = baton.stages.resolve_buying_stage(stage)
        if buying is None:
            raise ValidationError(f"stage {stage!r} is a closing stage with no buying stage")
        mask &= library.term_mask("stage", buying)
    if type:
        try:
            wanted = resolve_type(type, baton.stages)
        except MetadataError as exc:
            raise ValidationError(str(exc)) from None
        mask &= library.term_mask("type", wanted)
    for value, dimension, vocabulary in ((persona, "personas", baton.stages.personas),
                                         (industry, "industries", baton.stages.industries)):
        if value:
            slug = slugify(value)
            slug = vocabulary_aliases(vocabulary).get(slug, slug)
            mask &= library.term_mask(dimension, slug)
    return mask


def search_assets(baton: Baton, session: Session, query: str, k: int = 10,
                  stage: str | None = None, type: str | None = None,
                  persona: str | None = None, industry: str | None = None,
                  include_unrecommendable: bool = False) -> list[SearchHit]:
    """Search the library by meaning: exact cosine over asset vectors, with filters."""
    if not query or not query.strip():
        raise ValidationError("search query is empty")
    if int(k) < 1:
        raise ValidationError(f"k must be at least 1, not {k}")
    library = get_library_arrays(baton, session)
    mask = filter_mask(baton, library, stage, type, persona, industry, include_unrecommendable)
    if len(library) == 0 or not mask.any():
        return []
    vector = baton.embedder.encode([query.strip()])[0]
    if vector.shape[0] != library.asset_vectors.shape[1]:
        raise ModelError(
            f"the query model gives {vector.shape[0]}-dimensional vectors but the library holds "
            f"{library.asset_vectors.shape[1]}; run `baton reembed`"
        )
    return library.search(vector, int(k), mask)
