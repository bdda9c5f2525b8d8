"""Helpers for the API tests: one API key per role (and a revoked one), seeded data, headers."""

from __future__ import annotations

from tests.support.recommend_data import add_assets, add_opportunity
from web.services.accounts import create_api_key, revoke_api_key

ROLES = ("rep", "marketer", "admin")


def make_keys(baton) -> dict[str, str]:
    """Return plaintext keys by role, plus ``revoked`` (a revoked admin key)."""
    keys = {}
    with baton.session() as session:
        for role in ROLES:
            keys[role], _row = create_api_key(session, role, label=f"test {role}")
        keys["revoked"], row = create_api_key(session, "admin", label="revoked")
        revoke_api_key(session, row.id)
    return keys


def bearer(key: str | None) -> dict[str, str]:
    """Return the Authorization header for ``key`` (none for None)."""
    return {"Authorization": f"Bearer {key}"} if key else {}


def seed(baton, embedder, opportunity_id: str = "opp-1", **opportunity) -> None:
    """Insert the small test library and one open opportunity."""
    with baton.session() as session:
        add_assets(session, embedder)
        add_opportunity(session, opportunity_id, **opportunity)
