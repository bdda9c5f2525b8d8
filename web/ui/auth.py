"""Sign-in and sign-out with session cookies, and ``login_required(role)`` for UI views."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, g, redirect, render_template, request, session, url_for

from recommender.domain import role_allows, utcnow
from recommender.errors import BatonError
from web import ratelimit
from web.db import get_session
from web.errors import STATUS_FOR_ERROR
from web.services.accounts import authenticate_user, password_stamp, signed_in_user
from web.ui.blueprint import bp

ROLE_HOME = {"rep": "ui.deals", "marketer": "ui.library", "admin": "ui.library"}


def current_user():
    """Return the signed-in, active user of this request, or None."""
    if "ui_user" not in g:
        user_id = session.get("user_id")
        g.ui_user = None if user_id is None else signed_in_user(get_session(), user_id,
                                                                session.get("pw"))
    return g.ui_user


def login_required(role: str = "rep"):
    """Decorate a UI view: redirect to sign-in when anonymous, a friendly 403 when the role
    may not."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                return redirect(url_for("ui.login", next=request.full_path.rstrip("?")))
            if not role_allows(user.role, role):
                abort(403, description=f"This page is for the {role} role and above; "
                                       f"you are signed in as a {user.role}.")
            return view(*args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped

    return decorator


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with e-mail and password."""
    error = None
    wait = ratelimit.retry_after("sign_in") if request.method == "POST" else 0
    if wait:
        return render_template("ui/login.html", error=f"Too many failed sign-ins from this "
                               f"address; try again in {wait} s.",
                               email=request.form.get("email", "")), 429, {"Retry-After": wait}
    if request.method == "POST":
        user = authenticate_user(get_session(), request.form.get("email", ""),
                                 request.form.get("password", ""))
        if user is None:
            ratelimit.record_failure("sign_in")
            error = "Wrong e-mail or password, or the account is deactivated."
        else:
            session.clear()
            session["user_id"] = user.id
            session["pw"] = password_stamp(user)
            session.permanent = True
            target = _safe_next(request.args.get("next")) or url_for(ROLE_HOME[user.role])
            return redirect(target)
    status = 401 if error else 200
    return render_template("ui/login.html", error=error,
                           email=request.form.get("email", "")), status


@bp.post("/logout")
def logout():
    """Sign out."""
    session.clear()
    return redirect(url_for("ui.login"))


@bp.errorhandler(403)
def forbidden(exc):
    return render_template("ui/error.html", status=403, title="Not for your role",
                           message=exc.description), 403


@bp.errorhandler(404)
def not_found(exc):
    return render_template("ui/error.html", status=404, title="Not found",
                           message=exc.description), 404


@bp.errorhandler(BatonError)
def baton_error(exc: BatonError):
    status = STATUS_FOR_ERROR.get(exc.code, 400)
    titles = {404: "Not found", 403: "Not for your role", 409: "Conflict"}
    return render_template("ui/error.html", status=status,
                           title=titles.get(status, "That did not work"), message=str(exc)), status


def init_app(app: Flask) -> None:
    @app.context_processor
    def inject_user():
        user = current_user() if request.blueprint == "ui" else None
        return {"current_user": user, "role_allows": role_allows, "today": utcnow().date()}
