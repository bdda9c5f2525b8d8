"""The ``Baton`` runtime: settings, database, stage config and embedder, built once.

The Flask app and the CLI each build one ``Baton`` and hand it to the services, so services
never depend on ``flask.request`` or on a global.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, make_session_factory, session_scope, upgrade_database
from recommender.content.embedding import Embedder, load_embedder
from recommender.domain import StageConfig
from recommender.stage_config import load_stage_config
from web.config import Settings


class Baton:
    """Everything a service needs: ``settings``, ``engine``, ``sessions``, ``stages``, ``embedder``.

    The embedder is loaded on first use (the real model takes seconds to load), and can be
    injected for tests or scripts.
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        Path(settings.instance_path).mkdir(parents=True, exist_ok=True)
        self.engine: Engine = make_engine(settings.database_url)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        self.stages: StageConfig = load_stage_config(settings.stages or None)
        self._embedder = embedder
        # Per-process caches that services may use (e.g. the search index); keyed by name.
        self.cache: dict[str, Any] = {}

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.embedding_model)
        return self._embedder

    @property
    def loaded_embedder(self) -> Embedder | None:
        """The embedder when one was injected or has been loaded already, else None."""
        return self._embedder

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commit on success, roll back on error."""
        with session_scope(self.sessions) as session:
            yield session

    def init_database(self) -> None:
        """Create or upgrade the schema to the newest migration."""
        upgrade_database(self.engine)

    def close(self) -> None:
        self.engine.dispose()
