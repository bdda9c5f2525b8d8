"""The library as ranking arrays (``recommender.ranking.scoring.Candidates``), cached per library version.

Built from ``web.services.content.ingest.get_library_index`` (cached, fingerprinted matrices), so every
gunicorn worker refreshes on change (at most ``REFRESH_SECONDS`` late).
"""

from __future__ import annotations

import time

import numpy as np
from sqlalchemy import event
from sqlalchemy.orm import Session

from models import Asset, Passage
from recommender.domain import utcnow
from recommender.ranking.scoring import Candidates
from web.runtime import Baton
from web.services.content.index import LibraryIndex
from web.services.content.ingest import get_library_index

_CACHE = "recommend.candidates"
# How long a checked library version is trusted before its fingerprint is queried again. The
# fingerprint query scans the assets table, so checking it on every request would dominate the
# recommend path; assets about to be served are re-checked one by one in the service anyway.
REFRESH_SECONDS = 2.0


def from_library_index(index: LibraryIndex) -> Candidates:
    """Return ``Candidates`` from the library service's ``LibraryIndex``."""
    today = utcnow().date()  # the index may predate today's expiries
    recommendable = np.asarray(index.recommendable, dtype=bool) & np.asarray(
        [e is None or e >= today for e in index.expires], dtype=bool)
    # Given or confirmed tags are certain; auto tags count with their confidence.
    confidence = [1.0 if source in ("given", "confirmed") or c is None else float(c)
                  for c, source in zip(index.stage_confidence, index.stage_source, strict=True)]
    return Candidates(
        index.asset_ids, index.asset_vectors, index.stage, index.type,
        passage_vectors=index.passage_vectors, passage_asset=index.passage_asset,
        passage_texts=index.passage_texts, stage_confidence=confidence,
        personas=index.personas, industries=index.industries, products=index.products,
        recommendable=recommendable,
    )


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
    cached = baton.cache.get(_CACHE)
    now = time.monotonic()
    generation = _generation(baton)
    if cached is not None and now - cached[2] < REFRESH_SECONDS and cached[3] == generation:
        return cached[1]  # checked a moment ago; served assets are re-checked in the service
    index = get_library_index(baton, session)
    if cached is not None and cached[0] is index:
        baton.cache[_CACHE] = (index, cached[1], now, generation)
        return cached[1]
    candidates = from_library_index(index)
    baton.cache[_CACHE] = (index, candidates, now, generation)
    return candidates
