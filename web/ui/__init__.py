"""The browser UI: library, deal desk, analytics, settings."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

from web.db import get_session

bp = Blueprint("ui", __name__)


@bp.get("/")
def index():
    """Show the first page of the content library."""
    from sqlalchemy import select

    from models import Asset

    assets = get_session().scalars(
        select(Asset).where(Asset.status == "active").order_by(Asset.title).limit(50)
    ).all()
    return render_template("ui/index.html", assets=assets)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
