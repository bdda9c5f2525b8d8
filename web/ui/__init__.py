"""The browser UI: sign-in, content library, deal desk, analytics and settings.

One ``ui`` blueprint (``web.ui.blueprint``); each module adds its routes. Every form carries a
CSRF token (Flask-WTF).
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, request, url_for
from markupsafe import Markup, escape

from web.ui import analytics, auth, deals, library, settings  # noqa: F401  (routes)
from web.ui.blueprint import bp, csrf

__all__ = ["bp", "csrf", "init_app"]


def time_tag(value: datetime | date | None, style: str = "datetime") -> Markup:
    """Render a naive-UTC datetime as ``<time>``; baton.js shows it in the viewer's locale."""
    if value is None:
        return Markup('<span class="muted">—</span>')
    if isinstance(value, datetime):
        iso = value.replace(microsecond=0).isoformat() + "Z"
        text = value.strftime("%Y-%m-%d %H:%M UTC")
    else:
        iso, text, style = value.isoformat(), value.isoformat(), "date"
    return Markup(f'<time datetime="{escape(iso)}" data-style="{escape(style)}">'
                  f'{escape(text)}</time>')


def page_url(page: int, param: str = "page") -> str:
    """Return the current URL with ``param`` set to ``page`` (keeps every other argument)."""
    args = request.args.to_dict()
    args[param] = str(page)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def sort_url(column: str) -> str:
    """Return the current URL sorted by ``column``; sorting the same column again flips it."""
    args = request.args.to_dict()
    same = args.get("sort") == column
    args["desc"] = "0" if same and args.get("desc") == "1" else ("1" if same else "0")
    args["sort"], args["page"] = column, "1"
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def init_app(app: Flask) -> None:
    # The check is explicit (check_csrf in web.ui.blueprint) so only the UI's forms are protected.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    csrf.init_app(app)
    app.jinja_env.globals.update(time_tag=time_tag, page_url=page_url, sort_url=sort_url)
    auth.init_app(app)
    app.register_blueprint(bp)
