"""Marketer rules: "for opportunities where <condition>, include / boost / exclude <target>"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, now


class Rule(Base):
    """A stored rule; ``condition`` and ``target`` are JSON, see ``recommender.ranking.rules``."""

    __tablename__ = "rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    condition: Mapped[dict] = mapped_column(default=dict)
    action: Mapped[str] = mapped_column(String(12))
    target: Mapped[dict] = mapped_column(default=dict)
    weight: Mapped[float] = mapped_column(Float, default=0.0)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
