"""The compact HTML panel a CRM embeds for one opportunity (to be built)."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("sidebar", __name__, url_prefix="/sidebar")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
