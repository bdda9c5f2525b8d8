"""Fixtures for the UI tests: one user per role, and the small library and pipeline."""

from __future__ import annotations

import pytest

from tests.support.ui import EMAILS, add_deals, add_library, add_users


@pytest.fixture
def users(baton):
    """Add a rep, a marketer and an admin; return their emails by role."""
    add_users(baton)
    return EMAILS


@pytest.fixture
def data(baton, users):
    """Add the users, the small library and the deals; return the runtime."""
    add_library(baton)
    add_deals(baton)
    return baton
