"""Share links: unguessable tokens stored as hashes, view counting, file targets, revocation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Asset, ContentEvent
from models.recommendations import ShareLink
from recommender.errors import NotFoundError, ValidationError
from tests.support.recommend_data import add_assets, add_opportunity
from web.services.sharing import (
    create_share_link,
    hash_token,
    resolve_share_link,
    revoke_share_link,
)


@pytest.fixture
def world(baton, embedder):
    with baton.session() as session:
        add_assets(session, embedder, expired=("old-datasheet",), archived=("impl-plan",))
        add_opportunity(session)
    return baton


def test_create_records_shared_and_stores_only_the_hash(world):
    with world.session() as session:
        link = create_share_link(world, session, "opp-1", "roi", user="ana")
        assert link.url == f"/r/{link.token}" and len(link.token) >= 32
        row = session.get(ShareLink, link.id)
        assert row.token_hash == hash_token(link.token) != link.token
        shared = session.scalars(select(ContentEvent).where(
            ContentEvent.event_type == "shared")).all()
    assert [(e.asset_id, e.opportunity_id, e.user) for e in shared] == [("roi", "opp-1", "ana")]
    assert shared[0].event_id == link.event_id


def test_tokens_are_unique_per_link(world):
    with world.session() as session:
        tokens = {create_share_link(world, session, "opp-1", "roi").token for _ in range(20)}
    assert len(tokens) == 20


def test_resolve_counts_views_and_records_viewed_events(world):
    with world.session() as session:
        link = create_share_link(world, session, "opp-1", "roi")
        first = resolve_share_link(world, session, link.token)
        resolve_share_link(world, session, link.token)
        row = session.get(ShareLink, link.id)
        session.refresh(row)
        views = session.scalars(select(ContentEvent).where(
            ContentEvent.event_type == "viewed")).all()
    assert first.url == "https://example.com/roi" and first.file_path is None
    assert row.view_count == 2
    assert row.first_viewed_at <= row.last_viewed_at
    assert len(views) == 2 and {v.asset_id for v in views} == {"roi"}


def test_stored_file_target(world):
    files = world.settings.files_dir
    files.mkdir(parents=True, exist_ok=True)
    (files / "roi.pdf").write_bytes(b"%PDF-1.4 demo")
    with world.session() as session:
        asset = session.get(Asset, "roi")
        asset.url, asset.stored_file, asset.media_type = None, "roi.pdf", "application/pdf"
        session.commit()
        link = create_share_link(world, session, "opp-1", "roi")
        target = resolve_share_link(world, session, link.token)
    assert target.url is None and target.file_path == str((files / "roi.pdf").resolve())
    assert target.media_type == "application/pdf"


def test_revoked_and_unknown_tokens_do_not_resolve_the_same_way(world):
    with world.session() as session:
        link = create_share_link(world, session, "opp-1", "roi")
        revoke_share_link(world, session, link.id)
        revoke_share_link(world, session, link.id)  # idempotent
        with pytest.raises(NotFoundError) as revoked:
            resolve_share_link(world, session, link.token)
        with pytest.raises(NotFoundError) as unknown:
            resolve_share_link(world, session, "not-a-token")
        assert str(revoked.value) == str(unknown.value)
        assert session.scalar(select(ContentEvent).where(
            ContentEvent.event_type == "viewed")) is None
        with pytest.raises(NotFoundError):
            revoke_share_link(world, session, 9999)


def test_cannot_share_unknown_expired_or_archived(world):
    with world.session() as session:
        with pytest.raises(NotFoundError, match="unknown opportunity"):
            create_share_link(world, session, "nope", "roi")
        with pytest.raises(NotFoundError, match="unknown asset"):
            create_share_link(world, session, "opp-1", "ghost")
        with pytest.raises(ValidationError, match="expired on 2020-01-01"):
            create_share_link(world, session, "opp-1", "old-datasheet")
        with pytest.raises(ValidationError, match="is archived"):
            create_share_link(world, session, "opp-1", "impl-plan")
