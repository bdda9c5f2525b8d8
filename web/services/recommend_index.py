"""The library as ranking arrays (``recommender.ranking.Candidates``), cached per library version.

Built from ``web.services.library.get_library_index`` (cached, fingerprinted matrices); when that
service is not available, from a direct read of the assets and passages with the same cheap
fingerprint (asset count + newest ``updated_at``), so every gunicorn worker refreshes on change.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Asset, Passage
from recommender.domain import utcnow
from recommender.ranking import Candidates
from web.runtime import Baton

_CACHE = "recommend.candidates"


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


def library_candidates(baton: Baton, session: Session) -> Candidates:
    """Return the cached ``Candidates`` of the current library (rebuilt when it changed)."""
    try:
        from web.services.library import get_library_index
    except ImportError:
        get_library_index = None
    if get_library_index is not None:
        index = get_library_index(baton, session)
        cached = baton.cache.get(_CACHE)
        if cached is not None and cached[0] is index:
            return cached[1]
        candidates = from_library_index(index)
        baton.cache[_CACHE] = (index, candidates)
        return candidates
    return _from_database(baton, session)


def _from_database(baton: Baton, session: Session) -> Candidates:
    fingerprint = tuple(session.execute(
        select(func.count(Asset.id), func.max(Asset.updated_at))
    ).one()) + (utcnow().date(),)
    cached = baton.cache.get(_CACHE)
    if cached is not None and cached[0] == fingerprint:
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
    baton.cache[_CACHE] = (fingerprint, candidates)
    return candidates
