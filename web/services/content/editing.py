"""Editing the library: metadata changes, archive, retire, stage confirmation, review queue."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Asset
from recommender.content.asset_files import (
    parse_date,
    parse_terms,
    resolve_stage,
    resolve_type,
    vocabulary_aliases,
)
from recommender.errors import MetadataError, NotFoundError, ValidationError
from web.runtime import Baton
from web.services.content.index import invalidate_library

EDITABLE = ("title", "type", "stage", "personas", "industries", "products", "url", "expires",
            "owner", "review_by", "status")
EDITABLE_STATUSES = ("active", "archived")


@dataclass
class ReviewItem:
    """An auto-tagged asset whose stage confidence is below the review threshold."""

    asset_id: str
    title: str
    stage: str
    stage_confidence: float
    type: str

    def to_dict(self) -> dict:
        return {"asset_id": self.asset_id, "title": self.title, "stage": self.stage,
                "stage_confidence": round(self.stage_confidence, 4), "type": self.type}


def get_asset(session: Session, asset_id: str) -> Asset:
    """Return the asset called ``asset_id`` or raise ``NotFoundError``."""
    asset = session.get(Asset, asset_id)
    if asset is None:
        raise NotFoundError(f"no asset with id {asset_id!r}")
    return asset


def update_asset(baton: Baton, session: Session, asset_id: str, changes: dict) -> Asset:
    """Apply metadata ``changes`` to an asset; given values replace inferred ones."""
    asset = get_asset(session, asset_id)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationError(
            f"cannot change {', '.join(map(repr, unknown))}; editable: {', '.join(EDITABLE)}")
    try:
        values = _validated(baton, changes)
    except MetadataError as exc:
        raise ValidationError(str(exc)) from None
    inferred = dict(asset.inferred or {})
    for key, value in values.items():
        setattr(asset, key, value)
        if key == "stage":
            asset.stage_source, asset.stage_confidence = "given", None
        elif key == "type":
            asset.type_source = "given"
        elif key in ("personas", "industries", "products"):
            inferred.pop(key, None)
    asset.inferred = inferred
    session.commit()
    invalidate_library(baton)
    return asset


def _validated(baton: Baton, changes: dict) -> dict:
    values: dict = {}
    for key, value in changes.items():
        if key == "title":
            title = " ".join(str(value or "").split())
            if not title or len(title) > 500:
                raise MetadataError("title must be 1 to 500 characters")
            values[key] = title
        elif key == "type":
            values[key] = resolve_type(value, baton.stages)
        elif key == "stage":
            values[key] = resolve_stage(value, baton.stages)
        elif key in ("personas", "industries", "products"):
            values[key] = parse_terms(value, key, vocabulary_aliases(getattr(baton.stages, key)))
        elif key in ("expires", "review_by"):
            values[key] = parse_date(value, key)
        elif key == "url":
            url = str(value).strip() if value else None
            if url and not url.lower().startswith(("http://", "https://")):
                raise MetadataError(f"url {url!r} must start with http:// or https://")
            values[key] = url
        elif key == "owner":
            values[key] = str(value).strip() or None if value is not None else None
        elif key == "status":
            if value not in EDITABLE_STATUSES:
                raise MetadataError(
                    f"status {value!r} is not one of {', '.join(EDITABLE_STATUSES)}")
            values[key] = value
    return values


def archive_asset(baton: Baton, session: Session, asset_id: str) -> Asset:
    """Archive an asset: kept and searchable by marketers, never recommended."""
    return _set_status(baton, session, asset_id, "archived")


def delete_asset(baton: Baton, session: Session, asset_id: str) -> Asset:
    """Retire an asset: its history stays, it leaves search and recommendations."""
    return _set_status(baton, session, asset_id, "retired")


def _set_status(baton: Baton, session: Session, asset_id: str, status: str) -> Asset:
    asset = get_asset(session, asset_id)
    asset.status = status
    session.commit()
    invalidate_library(baton)
    return asset


def confirm_stage(baton: Baton, session: Session, asset_id: str,
                  stage: str | None = None) -> Asset:
    """Confirm an asset's stage (or correct it to ``stage``); it then counts as labelled."""
    asset = get_asset(session, asset_id)
    if stage is not None:
        try:
            asset.stage = resolve_stage(stage, baton.stages)
        except MetadataError as exc:
            raise ValidationError(str(exc)) from None
    asset.stage_source = "confirmed"
    asset.stage_confidence = None
    session.commit()
    invalidate_library(baton)
    return asset


def review_queue(baton: Baton, session: Session,
                 threshold: float | None = None) -> list[ReviewItem]:
    """List auto-tagged assets whose stage confidence is below ``threshold``, least sure first."""
    if threshold is None:
        threshold = baton.settings.low_confidence
    rows = session.scalars(
        select(Asset).where(Asset.status != "retired", Asset.stage_source == "auto",
                            Asset.stage_confidence < float(threshold))
        .order_by(Asset.stage_confidence, Asset.id)
    ).all()
    return [ReviewItem(a.id, a.title, a.stage, float(a.stage_confidence or 0.0), a.type)
            for a in rows]
