"""API resource: sidebar tokens, the signed, expiring credential of a CRM iframe."""

from __future__ import annotations

from datetime import UTC

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from web.api.common import access
from web.api.schemas import SidebarTokenInSchema, SidebarTokenSchema
from web.auth import mint_sidebar_token
from web.db import get_session
from web.services.queries.deals import known_opportunity

blp = Blueprint("sidebar-tokens", __name__, url_prefix="/api/v1/sidebar-tokens",
                description="Mint the token a CRM puts in the sidebar iframe's URL.")


@blp.route("")
class SidebarTokens(MethodView):
    @access(blp, "rep")
    @blp.arguments(SidebarTokenInSchema)
    @blp.response(201, SidebarTokenSchema)
    def post(self, data: dict):
        """Mint a token that opens ``/sidebar/<opportunity_id>`` until it expires."""
        opportunity_id = data["opportunity_id"]
        known_opportunity(get_session(), opportunity_id)
        token, expires = mint_sidebar_token(opportunity_id, role="rep",
                                            user=data.get("user", ""),
                                            minutes=data.get("minutes"))
        url = url_for("sidebar.panel", opportunity_id=opportunity_id, token=token)
        return {"token": token, "url": url, "opportunity_id": opportunity_id,
                "expires_at": expires.replace(tzinfo=UTC)}
