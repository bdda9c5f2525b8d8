"""The JSON API under /api/v1, documented by OpenAPI 3 (flask-smorest) at /api/v1/openapi.json.

Every error, flask-smorest's own (422 from argument parsing) included, uses the one envelope
``{"error": {"code": ..., "message": ...}}``. Interactive docs (Swagger UI, served from the
``swagger-ui-bundle`` package: no CDN) are at /api/docs.
"""

from __future__ import annotations

from flask import Flask, request
from flask_cors import CORS
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

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
from web.errors import error_response, wants_json

RESOURCES = (assets, opportunities, events, rules, shares, sidebar_tokens, analytics)
API_PREFIX = "/api/"
CORS_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"]


def _flatten(messages: object, where: str = "") -> list[str]:
    """Return ``where: message`` lines from webargs' nested validation messages."""
    if isinstance(messages, dict):
        lines = []
        for key, value in messages.items():
            name = str(key) if key not in ("json", "form", "files") or where else ""
            lines.extend(_flatten(value, f"{where}.{name}" if where and name else where or name))
        return lines
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{where}: {' '.join(messages)}" if where else " ".join(messages)]
    if isinstance(messages, list):
        return [line for i, m in enumerate(messages) for line in _flatten(m, f"{where}[{i}]")]
    return [f"{where}: {messages}" if where else str(messages)]


def http_error_response(exc: HTTPException):
    """Return the JSON envelope for an HTTP error (webargs messages become the message)."""
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_")
    message = exc.description or exc.name or "error"
    data = getattr(exc, "data", None) or {}
    details = data.get("errors") or data.get("messages")
    if isinstance(exc, RequestEntityTooLarge) and message == RequestEntityTooLarge.description:
        message = "the request body is larger than this server accepts"
    if details:
        code = "validation_error" if status == 422 else code
        message = "invalid request: " + "; ".join(_flatten(details))
    elif data.get("message"):
        message = str(data["message"])
    response = error_response(status, code, message, details or None)
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if getattr(exc, "valid_methods", None):  # 405 says what is allowed
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


class BatonApi(Api):
    """flask-smorest's ``Api`` with Baton's error envelope, documented as ``ErrorSchema``."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        if not wants_json():
            return error  # the browser UI gets Flask's own HTML error page
        return http_error_response(error)


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
