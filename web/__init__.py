"""Baton's web application: ``create_app`` wires settings, database, blueprints and errors."""

from __future__ import annotations

from typing import Any

from flask import Flask

from recommender.content.embedding import Embedder
from web.config import Settings
from web.runtime import Baton


def create_app(test_config: dict[str, Any] | None = None,
               embedder: Embedder | None = None) -> Flask:
    """Create the Flask app; ``test_config`` overrides ``Settings`` fields by name."""
    app = Flask(__name__, instance_relative_config=True)
    overrides = dict(test_config or {})
    settings = Settings.from_env(**overrides)
    baton = Baton(settings, embedder=embedder)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        TESTING=bool(overrides.get("testing", False)),
    )
    app.extensions["baton"] = baton

    # Flask's app-factory pattern: importing the package ``web`` (as every service does for
    # ``web.runtime``) must not load the views, which import the services in turn.
    from web import api, db, errors, security, sidebar, ui

    db.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    api.init_app(app)
    ui.init_app(app)
    sidebar.init_app(app)
    return app
