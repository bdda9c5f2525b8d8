"""Build the demo: a fresh database with the sample library and a simulated CRM history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from web.config import Settings
from web.runtime import Baton

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTENT_LIBRARY = REPO_ROOT / "content_library"


def fresh_database(settings: Settings) -> None:
    """Delete the embedded SQLite database (and its WAL files) so the demo starts clean."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)


def build_demo(echo: Callable[[str], None] = print, seed: int = 7,
               settings: Settings | None = None) -> Baton:
    """Create a fresh demo database: ingest content_library/, load a CRM history, train."""
    settings = settings or Settings.from_env()
    fresh_database(settings)
    baton = Baton(settings)
    baton.init_database()
    echo(f"fresh database: {baton.engine.url.render_as_string(hide_password=True)}")
    from web.services import library

    report = library.ingest_paths(baton, [CONTENT_LIBRARY])
    echo(report.summary())
    return baton
