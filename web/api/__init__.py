"""The JSON API under /api/v1, documented by OpenAPI 3 (flask-smorest) at /api/v1/openapi.json."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

RESOURCE_MODULES = ("assets", "opportunities", "events", "analytics")


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Baton API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = Api(app)
    app.extensions["baton_api"] = api
    import importlib

    for name in RESOURCE_MODULES:
        module = importlib.import_module(f"web.api.{name}")
        blp = getattr(module, "blp", None)
        if blp is not None:
            api.register_blueprint(blp)
