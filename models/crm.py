"""The CRM side: opportunities, their stage history and the content events on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, now


class Opportunity(Base):
    """A CRM deal. ``opportunity_id`` is the CRM's key; ``stage`` is the pipeline stage name."""

    __tablename__ = "opportunities"

    opportunity_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(500), default="")
    account: Mapped[str] = mapped_column(String(500), default="")
    industry: Mapped[str] = mapped_column(String(200), default="", index=True)
    persona: Mapped[str] = mapped_column(String(200), default="")
    amount: Mapped[float | None] = mapped_column(Float)
    owner: Mapped[str] = mapped_column(String(200), default="", index=True)
    created_at: Mapped[datetime | None]
    pipeline: Mapped[str] = mapped_column(String(40), default="salesforce")
    stage: Mapped[str] = mapped_column(String(100))
    buying_stage: Mapped[str | None] = mapped_column(String(40), index=True)
    stage_entered_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(8), default="open", index=True)
    closed_at: Mapped[datetime | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    products: Mapped[list] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class StageChange(Base):
    """One move of an opportunity between pipeline stages (the stage history)."""

    __tablename__ = "stage_changes"
    __table_args__ = (
        UniqueConstraint("opportunity_id", "to_stage", "changed_at", name="uq_stage_change"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[str] = mapped_column(
        ForeignKey("opportunities.opportunity_id", ondelete="CASCADE"), index=True
    )
    from_stage: Mapped[str | None] = mapped_column(String(100))
    to_stage: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime]


class ContentEvent(Base):
    """An asset recommended to, shared with, viewed on or rated on an opportunity.

    ``event_id`` is unique: a replayed event (same id or idempotency key) is never counted twice.
    """

    __tablename__ = "content_events"
    __table_args__ = (
        Index("ix_content_events_opp_time", "opportunity_id", "occurred_at"),
        Index("ix_content_events_asset_type", "asset_id", "event_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), unique=True)
    opportunity_id: Mapped[str] = mapped_column(
        ForeignKey("opportunities.opportunity_id", ondelete="CASCADE")
    )
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id"))
    event_type: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(100), default="")
    buying_stage: Mapped[str | None] = mapped_column(String(40))
    occurred_at: Mapped[datetime]
    user: Mapped[str] = mapped_column(String(200), default="")
    propensity: Mapped[float | None] = mapped_column(Float)
    recommendation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
