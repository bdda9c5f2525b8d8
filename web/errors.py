"""One JSON error envelope for the API: ``{"error": {"code": ..., "message": ...}}``."""

from __future__ import annotations

from flask import Flask, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from recommender.errors import BatonError, UnknownStageError

# Domain errors become HTTP codes here, at the edge, and nowhere else.
STATUS_FOR_ERROR = {
    "unknown_stage": 422,
    "validation_error": 422,
    "metadata_error": 422,
    "extraction_error": 422,
    "not_found": 404,
    "conflict": 409,
    "forbidden": 403,
    "unauthorized": 401,
    "model_error": 503,
    "not_fitted": 503,
}


def error_response(status: int, code: str, message: str, details: object = None):
    """Return the JSON error envelope with ``status``."""
    body: dict = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    response = jsonify(body)
    response.status_code = status
    return response


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    @app.errorhandler(BatonError)
    def handle_baton_error(exc: BatonError):
        status = STATUS_FOR_ERROR.get(exc.code, 400)
        details = {"known": exc.known} if isinstance(exc, UnknownStageError) else None
        if wants_json():
            return error_response(status, exc.code, str(exc), details)
        return str(exc), status

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException):
        if not wants_json():
            return exc
        code = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description or exc.name
        # flask-smorest/webargs put validation messages on exc.data
        data = getattr(exc, "data", None)
        details = None
        if isinstance(data, dict) and "messages" in data:
            details = data["messages"]
            message = "invalid request: " + _flatten(details)
        return error_response(exc.code or 500, code, message, details)

    @app.errorhandler(OperationalError)
    def handle_database_down(exc: OperationalError):
        # The database went away (or is locked): retryable, so 503; the pool's pre-ping
        # reconnects by itself once it is back.
        app.logger.error("database unavailable: %s", str(exc.orig or exc).splitlines()[0])
        message = "the database is unavailable right now; retry shortly"
        if wants_json():
            response = error_response(503, "database_unavailable", message)
        else:
            response = app.make_response((message, 503))
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return handle_http_error(exc)
        app.logger.exception("unhandled error")
        if wants_json():
            return error_response(500, "internal_error", "internal server error")
        return "internal server error", 500


def _flatten(messages: object, prefix: str = "") -> str:
    if isinstance(messages, dict):
        parts = [_flatten(v, f"{prefix}{k}." if prefix or k != "json" else "") for k, v in
                 messages.items()]
        return "; ".join(p for p in parts if p)
    if isinstance(messages, list):
        return f"{prefix.rstrip('.')}: " + ", ".join(str(m) for m in messages)
    return f"{prefix.rstrip('.')}: {messages}"
