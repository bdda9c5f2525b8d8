"""Small helpers to read UI form and query values with clear errors."""

from __future__ import annotations

from datetime import date

from flask import request

from recommender.errors import ValidationError
from web.services.queries.paging import clamp_page


def text(name: str, limit: int = 500) -> str:
    """Return a trimmed form value, rejecting over-long input."""
    value = (request.form.get(name) or "").strip()
    if len(value) > limit:
        raise ValidationError(f"{name}: at most {limit} characters, got {len(value)}")
    return value


def date_or_none(name: str) -> date | None:
    """Return a ``YYYY-MM-DD`` form value as a date, or None when empty."""
    value = text(name, 20)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None


def terms(name: str) -> list[str]:
    """Return a multi-value form field (checkboxes) or a comma-separated text as a list."""
    values = request.form.getlist(name)
    if len(values) == 1 and "," in values[0]:
        values = values[0].split(",")
    return [v.strip() for v in values if v.strip()]


def paging(default_per_page: int = 25) -> tuple[int, int]:
    """Return (page, per_page) from the query string, clamped."""
    return clamp_page(request.args.get("page", 1), request.args.get("per_page",
                                                                      default_per_page))
