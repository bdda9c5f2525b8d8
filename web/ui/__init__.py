"""The browser UI: sign-in, content library, deal desk, analytics and settings.

One ``ui`` blueprint; each module adds its routes. Every form carries a CSRF token (Flask-WTF):
the check runs for this blueprint's unsafe methods only, so the bearer-token API and the
signed-token sidebar are exempt by construction.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup, escape

bp = Blueprint("ui", __name__)
csrf = CSRFProtect()


@bp.before_request
def check_csrf() -> None:
    csrf.protect()


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


@bp.get("/")
def index():
    """Send a signed-in user to the deal desk, others to sign in."""
    return redirect(url_for("ui.deals"))


@bp.app_errorhandler(CSRFError)
def csrf_error(exc: CSRFError):
    return render_template("ui/error.html", status=400, title="Form expired",
                           message="This form expired or was sent from another site. "
                                   "Go back, reload the page and try again."), 400


def init_app(app: Flask) -> None:
    # The check is explicit (check_csrf above) so only the UI's forms are protected.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    csrf.init_app(app)
    app.jinja_env.globals.update(time_tag=time_tag, page_url=page_url, sort_url=sort_url)
    from web.ui import analytics, auth, deals, library, settings  # noqa: F401  (routes)

    auth.init_app(app)
    app.register_blueprint(bp)
