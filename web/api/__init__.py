"""The JSON API under /api/v1, documented by OpenAPI 3 (flask-smorest) at /api/v1/openapi.json.

Every error, flask-smorest's own (422 from argument parsing) included, uses the one envelope
``{"error": {"code": ..., "message": ...}}``. Interactive docs (Swagger UI, served from the
``swagger-ui-bundle`` package: no CDN) are at /api/docs.
"""

from __future__ import annotations

from flask import Flask, request
from flask_cors import CORS
from flask_smorest import Api
from werkzeug.exceptions import RequestEntityTooLarge

from web.api import (
    analytics,
    assets,
    docs,
    events,
    opportunities,
    rules,
    shares,
    sidebar_tokens,
)
from web.api.schemas import ErrorSchema
from web.db import get_baton
from web.errors import handle_http_error

RESOURCES = (assets, opportunities, events, rules, shares, sidebar_tokens, analytics)
API_PREFIX = "/api/"
CORS_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"]


class BatonApi(Api):
    """flask-smorest's ``Api`` with Baton's error envelope, documented as ``ErrorSchema``."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        """Answer as the app does (flask-smorest registers this one in place of the app's)."""
        return handle_http_error(error)


def _limit_body() -> None:
    length = request.content_length
    if request.path.startswith(API_PREFIX) and length is not None:
        if length > get_baton().settings.max_request_bytes:
            raise RequestEntityTooLarge()


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Baton API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Baton's JSON API. Authenticate with `Authorization: Bearer "
                                "<api key>` (`baton api-key create --role rep|marketer|admin`); "
                                "roles rep < marketer < admin. Errors are "
                                "`{\"error\": {\"code\", \"message\"}}`."},
        "servers": [{"url": "/"}],
    })
    api = BatonApi(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer",
                       "description": "an API key, or a sidebar token where noted"})
    app.extensions["baton_api"] = api
    for resource in RESOURCES:
        api.register_blueprint(resource.blp)
    app.before_request(_limit_body)

    origins = app.extensions["baton"].settings.origins("cors")
    if origins:
        CORS(app, resources={r"/api/*": {"origins": origins}}, allow_headers=CORS_HEADERS,
             expose_headers=["Location"], max_age=600, supports_credentials=False)
    docs.init_app(app)
