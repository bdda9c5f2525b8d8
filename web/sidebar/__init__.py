"""The compact HTML panel a CRM embeds (iframe) for one opportunity, opened by a sidebar token.

The token (``POST /api/v1/sidebar-tokens``) is in the URL because an iframe on the CRM's domain
has no Baton cookie; the panel's buttons send it as a bearer token, so they need no CSRF token.
Framing is allowed only for ``BATON_FRAME_ANCESTORS`` (CSP in ``web.security``).
"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, request

from web.auth import current_principal, mint_sidebar_token, principal_name, verify_sidebar_token
from web.db import get_baton, get_session
from web.services.queries.deals import find_opportunity, stuck_flag
from web.services.ranking.recommendations import recommend
from web.sidebar import links

bp = Blueprint("sidebar", __name__, url_prefix="/sidebar")
DEFAULT_K = 5
MAX_K = 10


def _no_store(response, status: int = 200):
    response = (response, status, {"Cache-Control": "no-store"})
    return response


@bp.get("/<opportunity_id>")
def panel(opportunity_id: str):
    """Show the deal's stuck flag and what to send now, with share and feedback buttons."""
    token = request.args.get("token", "")
    claims = verify_sidebar_token(token)
    caller = current_principal() if claims is None and not token else None
    if caller is not None and caller.kind == "api_key":  # a CRM server calling with its key
        token = mint_sidebar_token(opportunity_id, role=caller.role, user=principal_name(caller))[0]
        claims = verify_sidebar_token(token)
    if claims is None or claims["o"] != opportunity_id:
        return _no_store(render_template("sidebar/denied.html"), 401)
    baton, session = get_baton(), get_session()
    opp = find_opportunity(session, opportunity_id)
    if opp is None:
        return _no_store(render_template("sidebar/denied.html", missing=True), 404)
    k = request.args.get("k", type=int) or DEFAULT_K
    result = recommend(baton, session, opportunity_id, k=max(1, min(k, MAX_K)),
                       user=str(claims.get("u") or "sidebar"))
    return _no_store(render_template("sidebar/panel.html", opp=opp,
                                     stuck=stuck_flag(baton, session, opp),
                                     result=result, token=token))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(links.bp)
