"""Shared fixtures: settings on a temp SQLite database, the runtime, the app, client and runner.

Tests use the documented ``HashingEmbedder`` (``baton-hashing``) unless marked ``real_model``.
Database tests that take the ``any_db_url`` fixture also run on PostgreSQL when
``BATON_TEST_POSTGRES_URL`` is set, and skip that leg with a visible reason otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from recommender.content.embedding import HashingEmbedder
from web import create_app
from web.config import Settings
from web.runtime import Baton

# The shared helpers assert too; rewrite their asserts so a failure shows the values.
pytest.register_assert_rewrite("tests.support")

REPO = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BATON_TEST_POSTGRES_URL", "")


def reset_postgres(url: str) -> None:
    """Drop every table in the public schema, so each test starts from an empty database."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_url(request, tmp_path) -> str:
    """A fresh database URL: SQLite always, PostgreSQL when BATON_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'baton.db'}"
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL leg skipped: BATON_TEST_POSTGRES_URL is not set")
    reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'baton.db'}"


def settings_for(tmp_path: Path, database_url: str) -> Settings:
    """Settings for a test runtime on ``database_url``, with the hashing embedder."""
    return Settings(
        instance_path=str(tmp_path / "instance"),
        database_url=database_url,
        embedding_model="baton-hashing",
        secret_key="test-secret",
    )


@pytest.fixture
def settings(tmp_path, db_url) -> Settings:
    return settings_for(tmp_path, db_url)


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


def started_runtime(settings: Settings, embedder: HashingEmbedder) -> Iterator[Baton]:
    """Yield a runtime with its database upgraded; close it afterwards."""
    runtime = Baton(settings, embedder=embedder)
    runtime.init_database()
    yield runtime
    runtime.close()


@pytest.fixture
def baton(settings, embedder) -> Iterator[Baton]:
    yield from started_runtime(settings, embedder)


@pytest.fixture
def any_db_baton(tmp_path, any_db_url, embedder) -> Iterator[Baton]:
    """A runtime on ``any_db_url``: a test taking it runs on SQLite and on PostgreSQL."""
    yield from started_runtime(settings_for(tmp_path, any_db_url), embedder)


@pytest.fixture
def app(settings, embedder, baton):
    config = {
        "instance_path": settings.instance_path,
        "database_url": settings.database_url,
        "embedding_model": settings.embedding_model,
        "secret_key": settings.secret_key,
        "testing": True,
    }
    application = create_app(config, embedder=embedder)
    yield application
    application.extensions["baton"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def cli_env(settings) -> dict[str, str]:
    """Environment for running ``baton`` commands against the test database."""
    return {
        "BATON_INSTANCE_PATH": settings.instance_path,
        "BATON_DATABASE_URL": settings.database_url,
        "BATON_EMBEDDING_MODEL": "baton-hashing",
        "BATON_SECRET_KEY": "test-secret",
    }


@pytest.fixture
def runner(cli_env) -> CliRunner:
    return CliRunner(env=cli_env)
