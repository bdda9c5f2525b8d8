"""Per-request database session on ``g``, closed on teardown; the app's ``Baton`` runtime."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from web.runtime import Baton


def get_baton() -> Baton:
    """Return the ``Baton`` runtime of the current app."""
    return current_app.extensions["baton"]


def get_session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = get_baton().sessions()
    return g.db_session


def close_session(exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_session)
