"""Fixtures for the API tests: the seeded library and opportunity, and one key per role."""

from __future__ import annotations

import pytest

from tests.support.api import make_keys, seed


@pytest.fixture
def keys(baton, embedder):
    """Seed the small library and ``opp-1``; return plaintext keys by role (see ``make_keys``)."""
    seed(baton, embedder)
    return make_keys(baton)
