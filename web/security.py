"""Security headers on every response; the sidebar's frame allow-list is its one exception."""

from __future__ import annotations

from flask import Flask, request

from web.db import get_baton


def init_app(app: Flask) -> None:
    @app.after_request
    def set_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if request.path.startswith("/sidebar/") or request.path.startswith("/r/"):
            ancestors = " ".join(get_baton().settings.origins("frame")) or "'none'"
            response.headers.setdefault(
                "Content-Security-Policy",
                f"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                f"frame-ancestors {ancestors}",
            )
        else:
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                "frame-ancestors 'none'",
            )
        return response
