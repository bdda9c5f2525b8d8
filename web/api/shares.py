"""API resource: tracked share links ``/r/<token>`` (create, revoke)."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from web.api.common import access
from web.api.schemas import ShareInSchema, ShareSchema
from web.auth import principal_name, sidebar_scope_error
from web.db import get_baton, get_session
from web.services import sharing

blp = Blueprint("shares", __name__, url_prefix="/api/v1/shares",
                description="Tracked links a rep sends a buyer: each view is recorded.")


@blp.route("")
class Shares(MethodView):
    @access(blp, "rep", sidebar=True)
    @blp.arguments(ShareInSchema)
    @blp.response(201, ShareSchema)
    def post(self, data: dict):
        """Create a tracked link to an asset for a deal (records a ``shared`` event)."""
        denied = sidebar_scope_error([data["opportunity_id"]])
        if denied is not None:
            return denied
        link = sharing.create_share_link(get_baton(), get_session(), data["opportunity_id"],
                                         data["asset_id"], user=principal_name(),
                                         recommendation_id=data.get("recommendation_id"))
        body = link.to_dict()
        body["absolute_url"] = request.host_url.rstrip("/") + link.url
        return body, 201, {"Location": link.url}


@blp.route("/<int(max=2147483647):share_id>")
class ShareResource(MethodView):
    @access(blp, "rep")
    @blp.response(204)
    def delete(self, share_id: int):
        """Revoke a link: it stops resolving at once (idempotent)."""
        sharing.revoke_share_link(get_baton(), get_session(), link_id=share_id)
