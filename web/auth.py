"""API authentication: ``Authorization: Bearer <key>``, roles rep < marketer < admin.

401 without a valid key, 403 for a role that may not. Views declare ``@require_role("rep")``.

Sidebar tokens: a CRM iframe cannot hold an API key, so ``POST /api/v1/sidebar-tokens`` mints a
signed, expiring token (itsdangerous ``URLSafeTimedSerializer`` with the app's secret) that
carries one ``opportunity_id``, a role and the CRM user. It opens ``/sidebar/<id>?token=...``
and, as a bearer token, only the endpoints that declare ``sidebar=True`` (events, shares), and
only for its own opportunity.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import wraps

from flask import current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from recommender.domain import role_allows, utcnow
from web import ratelimit
from web.db import get_baton, get_session
from web.errors import error_response
from web.services.accounts import KEY_PREFIX, Principal, verify_api_key

SIDEBAR_SALT = "baton.sidebar-token.v1"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SIDEBAR_SALT)


def mint_sidebar_token(opportunity_id: str, role: str = "rep", user: str = "",
                       minutes: int | None = None) -> tuple[str, datetime]:
    """Return a signed token for one opportunity's sidebar and its expiry (naive UTC)."""
    minutes = minutes or get_baton().settings.sidebar_token_minutes
    expires = utcnow().replace(microsecond=0) + timedelta(minutes=minutes)
    payload = {"o": opportunity_id, "r": role, "u": user, "e": int(expires.timestamp())}
    return _serializer().dumps(payload), expires


def verify_sidebar_token(token: str) -> dict | None:
    """Return the token's claims (``o``, ``r``, ``u``, ``e``) when valid and unexpired."""
    if not token or len(token) > 2000:
        return None
    try:
        # max_age bounds any token to the longest lifetime we mint (a week).
        claims = _serializer().loads(token, max_age=7 * 24 * 3600 + 60)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("o"), str):
        return None
    expires = claims.get("e")
    if not isinstance(expires, int) or utcnow().timestamp() >= expires:
        return None
    return claims


def current_principal() -> Principal | None:
    """Return the caller of this request (API key or sidebar token), authenticating once."""
    if "principal" in g:
        return g.principal
    principal = None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        if token.startswith(KEY_PREFIX + "_"):
            principal = verify_api_key(get_session(), token)
        else:
            claims = verify_sidebar_token(token)
            if claims is not None:
                g.sidebar_claims = claims
                principal = Principal(kind="sidebar", id=claims["o"], role=claims.get("r", "rep"))
    g.principal = principal
    return principal


def principal_name(principal: Principal | None = None) -> str:
    """Return who acts, as recorded on events and logs (``api_key:3``, the sidebar's CRM user)."""
    principal = principal or current_principal()
    if principal is None:
        return ""
    if principal.kind == "sidebar":
        return str(g.get("sidebar_claims", {}).get("u") or "sidebar")
    return f"{principal.kind}:{principal.id}"


def sidebar_scope_error(opportunity_ids: Iterable[str]):
    """Return a 403 response when a sidebar token acts on another deal, else None."""
    principal = current_principal()
    if principal is None or principal.kind != "sidebar":
        return None
    others = sorted({str(o) for o in opportunity_ids} - {principal.id})
    if others:
        return error_response(403, "forbidden", f"this sidebar token is for opportunity "
                              f"{principal.id!r}, not {others[0]!r}")
    return None


def require_role(role: str, sidebar: bool = False):
    """Decorate an API view so only callers with at least ``role`` reach it.

    ``sidebar=True`` also admits sidebar tokens (the view must check their opportunity with
    ``sidebar_scope_error``).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            wait = ratelimit.retry_after("api_key")
            if wait:
                response = error_response(429, "too_many_requests", "too many failed API key "
                                          f"attempts from this address; retry in {wait} s")
                response.headers["Retry-After"] = str(wait)
                return response
            principal = current_principal()
            if principal is None:
                if request.headers.get("Authorization", "").partition(" ")[2].strip().startswith(
                        KEY_PREFIX + "_"):
                    ratelimit.record_failure("api_key")
                return error_response(401, "unauthorized", "a valid API key is required "
                                      "(Authorization: Bearer <key>)")
            if principal.kind == "sidebar" and not sidebar:
                return error_response(401, "unauthorized", "a sidebar token only opens the "
                                      "sidebar and its event and share calls; use an API key")
            if not role_allows(principal.role, role):
                return error_response(403, "forbidden",
                                      f"role {principal.role!r} may not do this; needs {role!r}")
            return view(*args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped

    return decorator
