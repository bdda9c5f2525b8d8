"""Interactive API docs at /api/docs: Swagger UI from the ``swagger-ui-bundle`` package, offline.

The page loads only files served by Baton (no CDN, no inline script), so the strict CSP holds.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, render_template, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("api_docs", __name__, url_prefix="/api/docs")
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                    "favicon-32x32.png", "favicon-16x16.png"})


@bp.get("")
@bp.get("/")
def page():
    """Show the interactive API documentation."""
    spec_url = url_for("api-docs.openapi_json")
    return render_template("api/docs.html", spec_url=spec_url)


@bp.get("/static/<path:filename>")
def asset(filename: str):
    """Serve one Swagger UI file from the installed bundle."""
    if filename not in ASSETS:
        abort(404)
    return send_from_directory(swagger_ui_path, filename, max_age=86400)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
