"""API resource: content events (one or a batch), idempotent."""

from __future__ import annotations

from collections.abc import Mapping

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from web.api.common import access
from web.api.schemas import EventSchema, EventsResultSchema
from web.auth import principal_name, sidebar_scope_error
from web.db import get_baton, get_session
from web.errors import error_response
from web.services.events import record_events

blp = Blueprint("events", __name__, url_prefix="/api/v1/events",
                description="What happened to content on a deal: recommended, shared, viewed, "
                            "helpful, not_helpful.")

BODY_DOC = {
    "required": True,
    "content": {"application/json": {"schema": {
        "oneOf": [EventSchema, {"type": "array", "items": EventSchema, "maxItems": 1000}]}}},
}
IDEMPOTENCY_DOC = {
    "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string"},
    "description": "replaying a call with the same key (or the same event_id) never double "
                   "counts; events without event_id get `<key>:<index>`",
}


@blp.route("")
class Events(MethodView):
    @access(blp, "rep", sidebar=True)
    @blp.doc(requestBody=BODY_DOC, parameters=[IDEMPOTENCY_DOC])
    @blp.response(201, EventsResultSchema, description="at least one event was recorded")
    @blp.alt_response(200, schema=EventsResultSchema, success=True,
                      description="a pure replay: every event was already recorded")
    def post(self):
        """Record one event or a batch (all or nothing); replays never double count."""
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, (Mapping, list)):
            return error_response(400, "bad_request",
                                  "the body must be a JSON event object or an array of them")
        if isinstance(body, Mapping) and isinstance(body.get("events"), list):
            body = body["events"]  # the common ``{"events": [...]}`` batch envelope
        batch = [body] if isinstance(body, Mapping) else body
        denied = sidebar_scope_error(e.get("opportunity_id", "") for e in batch
                                     if isinstance(e, Mapping))
        if denied is not None:
            return denied
        result = record_events(get_baton(), get_session(), body,
                               idempotency_key=request.headers.get("Idempotency-Key"),
                               user=principal_name())
        return result.to_dict(), 201 if result.created else 200
