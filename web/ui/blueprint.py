"""The ``ui`` blueprint and its CSRF protection; every UI module adds its routes to ``bp``.

The CSRF check runs for this blueprint's unsafe methods only, so the bearer-token API and the
signed-token sidebar are exempt by construction.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

bp = Blueprint("ui", __name__)
csrf = CSRFProtect()


@bp.before_request
def check_csrf() -> None:
    csrf.protect()


@bp.get("/")
def index():
    """Send a signed-in user to the deal desk, others to sign in."""
    return redirect(url_for("ui.deals"))


@bp.app_errorhandler(CSRFError)
def csrf_error(exc: CSRFError):
    return render_template("ui/error.html", status=400, title="Form expired",
                           message="This form expired or was sent from another site. "
                                   "Go back, reload the page and try again."), 400
