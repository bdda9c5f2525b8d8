"""Served recommendation lists (with per-item propensities) and tracked share links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, now


class RecommendationLog(Base):
    """One served recommendation list: who asked, for which deal and stage, under which policy.

    ``seed`` reproduces the list's random draws; ``served_by`` says whether the list came from
    the learned policy (``thompson``) or from the randomized holdout (``holdout``).
    """

    __tablename__ = "recommendation_logs"
    __table_args__ = (Index("ix_recommendation_logs_opp_time", "opportunity_id", "created_at"),)

    recommendation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    opportunity_id: Mapped[str] = mapped_column(
        ForeignKey("opportunities.opportunity_id", ondelete="CASCADE")
    )
    user: Mapped[str] = mapped_column(String(320), default="")
    buying_stage: Mapped[str | None] = mapped_column(String(40))
    policy_version: Mapped[str] = mapped_column(String(200))
    served_by: Mapped[str] = mapped_column(String(16), default="thompson")
    seed: Mapped[int] = mapped_column(BigInteger)
    candidate_count: Mapped[int] = mapped_column(Integer, default=0)
    k: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=now)


class RecommendedItem(Base):
    """One asset of a served list: its rank, score and the probability the policy shows it."""

    __tablename__ = "recommended_items"
    __table_args__ = (
        Index("ix_recommended_items_log_rank", "recommendation_id", "rank", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[str] = mapped_column(
        ForeignKey("recommendation_logs.recommendation_id", ondelete="CASCADE")
    )
    rank: Mapped[int] = mapped_column(Integer)
    asset_id: Mapped[str] = mapped_column(String(200), index=True)
    score: Mapped[float] = mapped_column(Float)
    propensity: Mapped[float] = mapped_column(Float)
    shown: Mapped[bool] = mapped_column(default=True)


class ShareLink(Base):
    """A tracked link ``/r/<token>`` to one asset for one deal. Only the token's hash is stored."""

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    opportunity_id: Mapped[str] = mapped_column(
        ForeignKey("opportunities.opportunity_id", ondelete="CASCADE"), index=True
    )
    recommendation_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    revoked_at: Mapped[datetime | None]
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    first_viewed_at: Mapped[datetime | None]
    last_viewed_at: Mapped[datetime | None]
