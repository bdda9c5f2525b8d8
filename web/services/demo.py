"""Build the demo: a fresh database with the sample library, a simulated CRM history, a trained
model and demo users, so a newcomer sees stuck deals, recommendations and analytics at once."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from models import Asset
from recommender.domain import utcnow
from recommender.learning.simulator import simulate_world
from recommender.learning.simulator_files import write_world
from web.config import Settings
from web.runtime import Baton
from web.services.accounts import create_user
from web.services.content.ingest import ingest_paths
from web.services.crm.importing import import_crm
from web.services.learning.training import train

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTENT_LIBRARY = REPO_ROOT / "content_library"
DEMO_USERS = (
    ("rep@waymark.example", "rep", "demo-rep-pass"),
    ("marketer@waymark.example", "marketer", "demo-marketer-pass"),
    ("admin@waymark.example", "admin", "demo-admin-pass"),
)


def fresh_database(settings: Settings) -> None:
    """Delete the embedded SQLite database (and its WAL files) so the demo starts clean."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    artifacts = Path(settings.artifacts_dir)
    if artifacts.is_dir():
        for old in artifacts.iterdir():
            if old.is_file():
                old.unlink()


def library_assets(baton: Baton) -> list[dict]:
    """Return the ingested assets as plain dicts for the simulator."""
    with baton.sessions() as session:
        rows = session.scalars(select(Asset).where(Asset.status == "active")).all()
        return [
            {
                "id": a.id,
                "title": a.title,
                "type": a.type,
                "stage": a.stage,
                "personas": list(a.personas or []),
                "industries": list(a.industries or []),
                "products": list(a.products or []),
            }
            for a in rows
        ]


def build_demo(echo: Callable[[str], None] = print, seed: int = 7,
               settings: Settings | None = None, baton: Baton | None = None,
               n_opportunities: int = 1500) -> Baton:
    """Create a fresh demo database: ingest content_library/, load a CRM history, train."""
    if baton is None:
        settings = settings or Settings.from_env()
        fresh_database(settings)
        baton = Baton(settings)
    baton.init_database()
    echo(f"fresh database: {baton.engine.url.render_as_string(hide_password=True)}")

    report = ingest_paths(baton, [CONTENT_LIBRARY])
    echo("library: " + report.summary())

    assets = library_assets(baton)
    world = simulate_world(seed=seed, n_opportunities=n_opportunities, assets=assets,
                           end=utcnow() - timedelta(hours=1))
    with tempfile.TemporaryDirectory() as tmp:
        write_world(world, Path(tmp), content=False)
        imported = import_crm(baton, [Path(tmp)], format="baton")
    echo("crm: " + imported.summary())

    trained = train(baton)
    echo("model: " + trained.summary())

    with baton.sessions() as session:
        for email, role, password in DEMO_USERS:
            try:
                create_user(session, email, role, password)  # commits each user
            except Exception:  # already there in a reused database
                session.rollback()
    echo("demo users (e-mail / password):")
    for email, role, password in DEMO_USERS:
        echo(f"  {role:9s} {email} / {password}")
    return baton
