"""Alembic migrations for Baton's schema (``baton init`` upgrades to head)."""
