"""The library as ranking arrays (``recommender.ranking.Candidates``), cached per library version.

Built from ``web.services.library.get_library_index`` (cached, fingerprinted matrices); when that
service is not available, from a direct read of the assets and passages with the same
fingerprint (asset count + newest ``updated_at``), so every gunicorn worker refreshes on change
(at most ``REFRESH_SECONDS`` late).
"""

from __future__ import annotations

import time

import numpy as np
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from models import Asset, Passage
from recommender.domain import utcnow
from recommender.ranking import Candidates
from web.runtime import Baton

_CACHE = "recommend.candidates"
# How long a checked library version is trusted before its fingerprint is queried again. The
# fingerprint query scans the assets table, so checking it on every request would dominate the
# recommend path; assets about to be served are re-checked one by one in the service anyway.
REFRESH_SECONDS = 2.0


def _pick(index, *names, default=None):
    for name in names:
        value = getattr(index, name, None)
        if value is not None:
            return value
    return default


def from_library_index(index) -> Candidates:
    """Return ``Candidates`` from the library service's ``LibraryIndex``."""
    ids = list(_pick(index, "asset_ids", default=[]))
    n = len(ids)
    recommendable = np.asarray(_pick(index, "recommendable", default=np.ones(n, bool)), bool)
    expires = _pick(index, "expires")
    if expires is not None:  # the index may predate today's expiries
        today = utcnow().date()
        recommendable = recommendable & np.asarray(
            [e is None or e >= today for e in expires], dtype=bool)
    return Candidates(
        ids,
        _pick(index, "asset_vectors", "vectors"),
        _pick(index, "stage", "stages", default=[""] * n),
        _pick(index, "type", "types", default=[""] * n),
        passage_vectors=_pick(index, "passage_vectors"),
        passage_asset=_pick(index, "passage_asset"),
        passage_texts=_pick(index, "passage_texts"),
        stage_confidence=_stage_confidence(index, n),
        personas=_pick(index, "personas"),
        industries=_pick(index, "industries"),
        products=_pick(index, "products"),
        recommendable=recommendable,
    )


def _stage_confidence(index, n: int):
    conf = _pick(index, "stage_confidence", "stage_confidences")
    sources = _pick(index, "stage_source", "stage_sources")
    if conf is None:
        return None
    conf = [1.0 if c is None else float(c) for c in conf]
    if sources is not None:  # given or confirmed tags are certain
        conf = [1.0 if s in ("given", "confirmed") else c for c, s in zip(conf, sources,
                                                                          strict=False)]
    return conf[:n]


# Writes to assets through this process's sessions bump a generation per database, so a change
# made here is seen at once; other processes' changes are seen within REFRESH_SECONDS.
_GENERATION: dict[str, int] = {}


def _bump(session: Session) -> None:
    bind = session.get_bind()
    key = str(getattr(bind, "url", bind))
    _GENERATION[key] = _GENERATION.get(key, 0) + 1


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    if any(isinstance(o, (Asset, Passage))
           for o in (*session.new, *session.dirty, *session.deleted)):
        _bump(session)


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and any(
            m.class_ in (Asset, Passage) for m in state.all_mappers):
        _bump(state.session)


def _generation(baton: Baton) -> int:
    return _GENERATION.get(str(baton.engine.url), 0)


def library_candidates(baton: Baton, session: Session) -> Candidates:
    """Return the cached ``Candidates`` of the current library (rebuilt when it changed)."""
    try:
        from web.services.library import get_library_index
    except ImportError:
        get_library_index = None
    cached = baton.cache.get(_CACHE)
    now = time.monotonic()
    generation = _generation(baton)
    if cached is not None and now - cached[2] < REFRESH_SECONDS and cached[3] == generation:
        return cached[1]  # checked a moment ago; served assets are re-checked in the service
    if get_library_index is not None:
        index = get_library_index(baton, session)
        if cached is not None and cached[0] is index:
            baton.cache[_CACHE] = (index, cached[1], now, generation)
            return cached[1]
        candidates = from_library_index(index)
        baton.cache[_CACHE] = (index, candidates, now, generation)
        return candidates
    return _from_database(baton, session, generation)


def _from_database(baton: Baton, session: Session, generation: int) -> Candidates:
    fingerprint = tuple(session.execute(
        select(func.count(Asset.id), func.max(Asset.updated_at))
    ).one()) + (utcnow().date(),)
    cached = baton.cache.get(_CACHE)
    if cached is not None and cached[0] == fingerprint:
        baton.cache[_CACHE] = (fingerprint, cached[1], time.monotonic(), generation)
        return cached[1]
    assets = list(session.scalars(select(Asset).order_by(Asset.id)))
    dims = [a.embedding_dim for a in assets if a.embedding is not None and a.embedding_dim]
    d = max(set(dims), key=dims.count) if dims else baton.embedder.dimension
    vectors = np.zeros((len(assets), d), dtype=np.float32)
    for i, asset in enumerate(assets):
        if asset.embedding is not None and asset.embedding_dim == d:
            vectors[i] = np.frombuffer(asset.embedding, dtype=np.float32)
    position = {a.id: i for i, a in enumerate(assets)}
    rows = session.execute(
        select(Passage.asset_id, Passage.text, Passage.embedding)
        .where(Passage.embedding.is_not(None)).order_by(Passage.asset_id, Passage.position)
    ).all()
    rows = [r for r in rows if r[0] in position and len(r[2]) == 4 * d]
    today = utcnow().date()
    candidates = Candidates(
        [a.id for a in assets], vectors, [a.stage for a in assets], [a.type for a in assets],
        passage_vectors=np.asarray([np.frombuffer(r[2], dtype=np.float32) for r in rows],
                                   dtype=np.float32).reshape(len(rows), d),
        passage_asset=np.asarray([position[r[0]] for r in rows], dtype=np.int64),
        passage_texts=[r[1] for r in rows],
        stage_confidence=[1.0 if a.stage_source in ("given", "confirmed")
                          else (a.stage_confidence if a.stage_confidence is not None else 1.0)
                          for a in assets],
        personas=[a.personas or [] for a in assets],
        industries=[a.industries or [] for a in assets],
        products=[a.products or [] for a in assets],
        recommendable=[a.status == "active" and (a.expires is None or a.expires >= today)
                       for a in assets],
    )
    baton.cache[_CACHE] = (fingerprint, candidates, time.monotonic(), generation)
    return candidates
