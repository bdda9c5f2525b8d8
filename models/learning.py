"""Learning: one row per training run of the outcome model (what, on which data, which code)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, now

TRAINING_STATUSES = ("running", "succeeded", "failed")


class TrainingRun(Base):
    """A ``baton train`` run: its artifact, data fingerprint, code version, figures or error."""

    __tablename__ = "training_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=now)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12), default="running", index=True)
    artifact_path: Mapped[str | None] = mapped_column(String(2000))
    model_version: Mapped[str | None] = mapped_column(String(64))
    # Counts and max ids of the tables read, so a run can be tied to the data it saw.
    data_fingerprint: Mapped[dict] = mapped_column(default=dict)
    code_version: Mapped[str] = mapped_column(String(200), default="")
    figures: Mapped[dict] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
