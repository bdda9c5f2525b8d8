"""Tracked share links: ``GET /r/<token>`` sends the buyer to the asset and records a view.

It exposes nothing but the asset: unknown, revoked and malformed tokens all get the same 404.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, send_file

from recommender.errors import NotFoundError
from web.db import get_baton, get_session
from web.services.sharing import resolve_share_link

bp = Blueprint("links", __name__, url_prefix="/r")
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
           "X-Robots-Tag": "noindex, nofollow"}


def _not_found():
    return render_template("sidebar/link_missing.html"), 404, PRIVATE


@bp.get("/<token>")
def follow(token: str):
    """Send the buyer to the shared asset (its URL or its stored file)."""
    try:
        target = resolve_share_link(get_baton(), get_session(), token)
    except NotFoundError:
        return _not_found()
    if target.url:
        if urlsplit(target.url).scheme not in ("http", "https"):
            return _not_found()  # never redirect to javascript:, data: or file: URLs
        response = redirect(target.url, code=302)
    else:
        response = send_file(target.file_path, mimetype=target.media_type,
                             download_name=target.filename or None, as_attachment=False)
    response.headers.update(PRIVATE)
    return response
