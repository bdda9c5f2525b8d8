"""The content library: assets and their passages, with their embedding vectors.

Vectors are float32 bytes (``numpy.ndarray.tobytes()``) tagged with the model's name and
dimension, so vectors of two models are never mixed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, now

ASSET_STATUSES = ("active", "archived", "retired")


class Asset(Base):
    """A piece of content: its metadata, extracted text, tags and asset-level vector."""

    __tablename__ = "assets"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    type: Mapped[str] = mapped_column(String(40), index=True)
    type_source: Mapped[str] = mapped_column(String(12), default="given")
    stage: Mapped[str] = mapped_column(String(40), index=True)
    stage_source: Mapped[str] = mapped_column(String(12), default="given")
    stage_confidence: Mapped[float | None] = mapped_column(Float)
    personas: Mapped[list] = mapped_column(default=list)
    industries: Mapped[list] = mapped_column(default=list)
    products: Mapped[list] = mapped_column(default=list)
    # Which of personas/industries/products were inferred rather than given.
    inferred: Mapped[dict] = mapped_column(default=dict)
    url: Mapped[str | None] = mapped_column(String(2000))
    expires: Mapped[date | None]
    owner: Mapped[str | None] = mapped_column(String(200))
    review_by: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(12), default="active", index=True)

    source_path: Mapped[str | None] = mapped_column(String(2000))
    stored_file: Mapped[str | None] = mapped_column(String(500))
    media_type: Mapped[str] = mapped_column(String(100), default="text/plain")
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    content_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    word_count: Mapped[int] = mapped_column(Integer, default=0)

    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedding_model: Mapped[str | None] = mapped_column(String(200))
    embedding_dim: Mapped[int | None] = mapped_column(Integer)

    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now, index=True)

    passages: Mapped[list[Passage]] = relationship(
        back_populates="asset",
        cascade="all, delete-orphan",
        order_by="Passage.position",
    )


class Passage(Base):
    """A chunk of an asset's text with its own vector, quoted when it matches a deal."""

    __tablename__ = "passages"
    __table_args__ = (Index("ix_passages_asset_position", "asset_id", "position", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)

    asset: Mapped[Asset] = relationship(back_populates="passages")
