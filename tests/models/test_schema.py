"""The schema comes from Alembic migrations and matches the models, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from models import Base, make_engine, upgrade_database


def test_upgrade_creates_every_model_table_and_matches_models(any_db_url):
    engine = make_engine(any_db_url)
    upgrade_database(engine)
    upgrade_database(engine)  # idempotent: a second upgrade is a no-op
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ; run python -m migrations.regen: {diff}"
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(db_url):
    engine = make_engine(db_url)
    upgrade_database(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
