"""One JSON error envelope for the API: ``{"error": {"code": ..., "message": ...}}``."""

from __future__ import annotations

from flask import Flask, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

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


def handle_http_error(exc: HTTPException):
    """Answer an HTTP error: the JSON envelope for API clients, Flask's own page otherwise."""
    if not wants_json():
        return exc
    return http_error_response(exc)


def init_app(app: Flask) -> None:
    @app.errorhandler(BatonError)
    def handle_baton_error(exc: BatonError):
        status = STATUS_FOR_ERROR.get(exc.code, 400)
        details = {"known": exc.known} if isinstance(exc, UnknownStageError) else None
        if wants_json():
            return error_response(status, exc.code, str(exc), details)
        return str(exc), status

    app.register_error_handler(HTTPException, handle_http_error)

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
