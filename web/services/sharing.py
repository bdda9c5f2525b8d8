"""Tracked share links ``/r/<token>``: create (records ``shared``), resolve (``viewed``), revoke.

Tokens are ``secrets.token_urlsafe(24)`` (192 random bits); only their sha256 is stored, and a
link is found by that hash. Unknown and revoked tokens get the same ``NotFoundError``, so a
caller learns nothing about which links exist.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Asset, ContentEvent, Opportunity
from models.recommendations import ShareLink
from recommender.domain import utcnow
from recommender.errors import NotFoundError, ValidationError
from web.runtime import Baton

LINK_PREFIX = "/r/"


@dataclass(frozen=True)
class NewShareLink:
    """A created link: the plaintext ``token`` and ``url`` are shown once and never stored."""

    id: int
    token: str
    url: str
    asset_id: str
    opportunity_id: str
    created_at: datetime
    event_id: str

    def to_dict(self) -> dict:
        return {"id": self.id, "token": self.token, "url": self.url, "asset_id": self.asset_id,
                "opportunity_id": self.opportunity_id,
                "created_at": self.created_at.isoformat() + "Z", "event_id": self.event_id}


@dataclass(frozen=True)
class ShareTarget:
    """Where a share link leads: an external ``url``, or a stored ``file_path`` to send."""

    asset_id: str
    url: str | None = None
    file_path: str | None = None
    media_type: str = "application/octet-stream"
    filename: str = ""


def hash_token(token: str) -> str:
    """Return the stored hash of a share token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _event(opp: Opportunity, asset_id: str, event_type: str, event_id: str, user: str,
           when: datetime, recommendation_id: str | None = None) -> ContentEvent:
    return ContentEvent(event_id=event_id, opportunity_id=opp.opportunity_id, asset_id=asset_id,
                        event_type=event_type, stage=opp.stage, buying_stage=opp.buying_stage,
                        occurred_at=when, user=user, recommendation_id=recommendation_id)


def create_share_link(baton: Baton, session: Session, opportunity_id: str, asset_id: str,
                      user: str = "", recommendation_id: str | None = None) -> NewShareLink:
    """Create a tracked link to an asset for a deal and record the ``shared`` event."""
    opp = session.get(Opportunity, opportunity_id)
    if opp is None:
        raise NotFoundError(f"unknown opportunity {opportunity_id!r}")
    asset = session.get(Asset, asset_id)
    if asset is None:
        raise NotFoundError(f"unknown asset {asset_id!r}")
    if asset.status != "active":
        raise ValidationError(f"asset {asset_id!r} is {asset.status} and cannot be shared")
    now = utcnow()
    if asset.expires is not None and asset.expires < now.date():
        raise ValidationError(f"asset {asset_id!r} expired on {asset.expires.isoformat()}")
    if not asset.url and not asset.stored_file:
        raise ValidationError(f"asset {asset_id!r} has neither a url nor a stored file to share")
    token = secrets.token_urlsafe(24)
    link = ShareLink(token_hash=hash_token(token), asset_id=asset_id,
                     opportunity_id=opportunity_id, created_by=user, created_at=now,
                     recommendation_id=recommendation_id, view_count=0)
    session.add(link)
    session.flush()
    event_id = f"share-{link.id}-{link.token_hash[:12]}"
    session.add(_event(opp, asset_id, "shared", event_id, user, now, recommendation_id))
    session.commit()
    return NewShareLink(link.id, token, LINK_PREFIX + token, asset_id, opportunity_id, now,
                        event_id)


def resolve_share_link(baton: Baton, session: Session, token: str) -> ShareTarget:
    """Return where a token leads, counting the view and recording a ``viewed`` event."""
    if not token or len(token) > 100:
        raise NotFoundError("unknown or revoked link")
    link = session.scalar(select(ShareLink).where(ShareLink.token_hash == hash_token(token)))
    if link is None or link.revoked_at is not None:
        raise NotFoundError("unknown or revoked link")
    asset = session.get(Asset, link.asset_id)
    opp = session.get(Opportunity, link.opportunity_id)
    if asset is None or opp is None:
        raise NotFoundError("unknown or revoked link")
    now = utcnow()
    # One atomic UPDATE, so concurrent views are all counted.
    session.execute(
        update(ShareLink).where(ShareLink.id == link.id).values(
            view_count=ShareLink.view_count + 1, last_viewed_at=now)
    )
    session.execute(
        update(ShareLink).where(ShareLink.id == link.id, ShareLink.first_viewed_at.is_(None))
        .values(first_viewed_at=now)
    )
    event_id = f"view-{link.id}-{now.strftime('%Y%m%d%H%M%S%f')}-{secrets.token_hex(4)}"
    session.add(_event(opp, asset.id, "viewed", event_id, "", now, link.recommendation_id))
    session.commit()
    if asset.url:
        return ShareTarget(asset.id, url=asset.url)
    path = Path(asset.stored_file or "")
    if not path.is_absolute():
        root = baton.settings.files_dir.resolve()
        path = (root / path).resolve()
        if not path.is_relative_to(root):  # never serve outside the files folder
            raise NotFoundError("the shared file is no longer available")
    if not asset.stored_file or not path.is_file():
        raise NotFoundError("the shared file is no longer available")
    return ShareTarget(asset.id, file_path=str(path), media_type=asset.media_type,
                       filename=Path(asset.source_path or path.name).name)


def revoke_share_link(baton: Baton, session: Session, link_id: int | None = None,
                      token: str | None = None) -> ShareLink:
    """Revoke a link by id or token (idempotent); it stops resolving at once."""
    link = None
    if link_id is not None:
        link = session.get(ShareLink, int(link_id))
    elif token:
        link = session.scalar(select(ShareLink).where(ShareLink.token_hash == hash_token(token)))
    if link is None:
        raise NotFoundError(f"unknown share link {link_id if link_id is not None else ''}".strip())
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        session.commit()
    return link


def list_share_links(baton: Baton, session: Session, opportunity_id: str) -> list[ShareLink]:
    """Return the deal's share links, newest first (tokens are not recoverable)."""
    return list(session.scalars(
        select(ShareLink).where(ShareLink.opportunity_id == opportunity_id)
        .order_by(ShareLink.created_at.desc(), ShareLink.id.desc())
    ))
