"""Shared pieces of the API views: the ``access`` decorator (auth + its OpenAPI doc), paging."""

from __future__ import annotations

from flask_smorest import Blueprint

from web.api.schemas import ErrorSchema
from web.auth import require_role

BEARER = [{"bearerAuth": []}]


def access(blp: Blueprint, role: str, sidebar: bool = False):
    """Require ``role`` (and document it: bearer auth, 401, 403, ``x-required-role``)."""
    who = f"`{role}` or higher" + (", or a sidebar token for this opportunity" if sidebar else "")

    def decorator(view):
        view = require_role(role, sidebar=sidebar)(view)
        view = blp.alt_response(401, schema=ErrorSchema,
                                description="missing, invalid or revoked API key")(view)
        view = blp.alt_response(403, schema=ErrorSchema, description=f"needs {who}")(view)
        return blp.doc(security=BEARER, **{"x-required-role": role,
                                           "x-sidebar-token": sidebar})(view)

    return decorator


def clamp_per_page(per_page: int, maximum: int) -> int:
    """Return the page size, capped at the server's maximum."""
    return max(1, min(int(per_page), int(maximum)))
