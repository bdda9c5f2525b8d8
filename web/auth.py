"""API authentication: ``Authorization: Bearer <key>``, roles rep < marketer < admin.

401 without a valid key, 403 for a role that may not. Views declare ``@require_role("rep")``.
"""

from __future__ import annotations

from functools import wraps

from flask import g, request

from recommender.domain import role_allows
from web.db import get_session
from web.errors import error_response
from web.services.accounts import Principal, verify_api_key


def current_principal() -> Principal | None:
    """Return the caller of this request (API key), authenticating once per request."""
    if "principal" in g:
        return g.principal
    principal = None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        principal = verify_api_key(get_session(), token.strip())
    g.principal = principal
    return principal


def require_role(role: str):
    """Decorate an API view so only callers with at least ``role`` reach it."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                return error_response(401, "unauthorized", "a valid API key is required "
                                      "(Authorization: Bearer <key>)")
            if not role_allows(principal.role, role):
                return error_response(403, "forbidden",
                                      f"role {principal.role!r} may not do this; needs {role!r}")
            return view(*args, **kwargs)

        return wrapped

    return decorator
