"""Paged lists: the ``Page`` every list returns, page-size clamping and the paged query."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from recommender.errors import ValidationError

MAX_PER_PAGE = 100


@dataclass
class Page:
    """One page of a list: ``items``, the 1-based ``page``, ``per_page`` and ``total``."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def clamp_page(page: Any, per_page: Any = 20) -> tuple[int, int]:
    """Return a valid (page, per_page) from raw query values; bad values raise clearly."""
    try:
        page_n, per_n = int(page or 1), int(per_page or 20)
    except (TypeError, ValueError):
        raise ValidationError(f"page and per_page must be integers, got {page!r}, "
                              f"{per_page!r}") from None
    return max(1, page_n), min(MAX_PER_PAGE, max(1, per_n))


def page_of(items: Sequence, page: int, per_page: int) -> Page:
    """Return one page of an in-memory list; ``total`` is the list's length."""
    start = (page - 1) * per_page
    return Page(list(items[start:start + per_page]), page, per_page, len(items))


def count(session: Session, query: Select) -> int:
    """Return how many rows ``query`` selects (its ordering dropped)."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return int(total or 0)


def paged(session: Session, query: Select, page: int, per_page: int) -> Page:
    """Return one page of the rows ``query`` selects, with the total across all pages."""
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, per_page, count(session, query))
