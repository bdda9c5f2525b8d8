"""What reps tell marketing: content requests (a need no asset meets)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, now

REQUEST_STATUSES = ("open", "planned", "done", "declined")


class ContentRequest(Base):
    """A rep's request for content that does not exist yet, queued for marketing."""

    __tablename__ = "content_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[str | None] = mapped_column(
        ForeignKey("opportunities.opportunity_id", ondelete="SET NULL")
    )
    requested_by: Mapped[str] = mapped_column(String(320), default="")
    need: Mapped[str] = mapped_column(Text)
    buying_stage: Mapped[str | None] = mapped_column(String(40))
    persona: Mapped[str | None] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
