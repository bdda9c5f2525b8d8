"""Recording events: validation, batches, idempotency by event_id and idempotency key."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from models import ContentEvent
from recommender.errors import ConflictError, ValidationError
from tests.support.recommend_data import add_assets, add_opportunity
from web.services.events import record_events


@pytest.fixture
def world(baton, embedder):
    with baton.session() as session:
        add_assets(session, embedder)
        add_opportunity(session)
    return baton


def count(session, **where) -> int:
    query = select(func.count()).select_from(ContentEvent)
    for key, value in where.items():
        query = query.where(getattr(ContentEvent, key) == value)
    return session.scalar(query)


def test_one_event_is_recorded_with_the_deal_stage(world):
    with world.session() as session:
        result = record_events(world, session, {
            "event_id": "e1", "opportunity_id": "opp-1", "asset_id": "pricing",
            "event_type": "helpful", "occurred_at": "2026-10-03T09:30:00Z", "user": "ana"})
        assert result.created == ["e1"] and result.duplicates == []
        row = session.scalar(select(ContentEvent).where(ContentEvent.event_id == "e1"))
    assert row.stage == "Proposal/Price Quote" and row.buying_stage == "decision"
    assert row.occurred_at == datetime(2026, 10, 3, 9, 30) and row.user == "ana"


def test_replay_by_event_id_never_double_counts(world):
    event = {"event_id": "e1", "opportunity_id": "opp-1", "asset_id": "roi",
             "event_type": "viewed", "propensity": 0.25}
    with world.session() as session:
        first = record_events(world, session, [event])
        second = record_events(world, session, [event, dict(event)])
        assert first.created == ["e1"]
        assert second.created == [] and second.duplicates == ["e1", "e1"]
        assert count(session) == 1


def test_idempotency_key_generates_ids_and_replays_are_duplicates(world):
    batch = [{"opportunity_id": "opp-1", "asset_id": a, "event_type": "shared"}
             for a in ("roi", "pricing", "security")]
    with world.session() as session:
        first = record_events(world, session, batch, idempotency_key="req-7")
        assert first.created == ["req-7:0", "req-7:1", "req-7:2"]
        again = record_events(world, session, batch, idempotency_key="req-7")
        assert again.created == [] and len(again.duplicates) == 3
        assert count(session, event_type="shared") == 3
        other = record_events(world, session, batch[:1], idempotency_key="req-8")
        assert other.created == ["req-8:0"]


def test_same_id_with_different_content_is_a_conflict(world):
    with world.session() as session:
        record_events(world, session, {"event_id": "e1", "opportunity_id": "opp-1",
                                       "asset_id": "roi", "event_type": "helpful"})
        with pytest.raises(ConflictError, match="events\\[0\\].event_id: 'e1' was already"):
            record_events(world, session, {"event_id": "e1", "opportunity_id": "opp-1",
                                           "asset_id": "roi", "event_type": "not_helpful"})
        with pytest.raises(ConflictError):
            record_events(world, session, [
                {"event_id": "e2", "opportunity_id": "opp-1", "asset_id": "roi",
                 "event_type": "helpful"},
                {"event_id": "e2", "opportunity_id": "opp-1", "asset_id": "pricing",
                 "event_type": "helpful"}])
        assert count(session) == 1


@pytest.mark.parametrize("event, message", [
    ({"asset_id": "roi", "event_type": "shared"}, "events[0].opportunity_id: is required"),
    ({"opportunity_id": "nope", "asset_id": "roi", "event_type": "shared"},
     "events[0].opportunity_id: unknown opportunity 'nope'"),
    ({"opportunity_id": "opp-1", "asset_id": "ghost", "event_type": "shared"},
     "events[0].asset_id: unknown asset 'ghost'"),
    ({"opportunity_id": "opp-1", "asset_id": "roi", "event_type": "liked"},
     "events[0].event_type: 'liked' is not one of"),
    ({"opportunity_id": "opp-1", "asset_id": "roi", "event_type": "shared", "stage": "Done"},
     "events[0].stage: unknown stage 'Done'"),
    ({"opportunity_id": "opp-1", "asset_id": "roi", "event_type": "shared",
      "occurred_at": "yesterday"}, "events[0].occurred_at: 'yesterday' is not an ISO 8601"),
    ({"opportunity_id": "opp-1", "asset_id": "roi", "event_type": "recommended",
      "propensity": 0}, "events[0].propensity: 0 is not a probability"),
    ({"opportunity_id": "opp-1", "asset_id": "roi", "event_type": "shared", "colour": 1},
     "events[0]: unknown keys colour"),
])
def test_bad_events_name_what_and_where_and_nothing_is_stored(world, event, message):
    good = {"event_id": "ok", "opportunity_id": "opp-1", "asset_id": "roi",
            "event_type": "shared"}
    with world.session() as session:
        with pytest.raises(ValidationError) as info:
            record_events(world, session, [event])
        assert message in str(info.value)
        with pytest.raises(ValidationError):
            record_events(world, session, [good, event])  # all or nothing
        assert count(session) == 0


def test_empty_or_malformed_batches_are_rejected(world):
    with world.session() as session:
        with pytest.raises(ValidationError, match="non-empty list"):
            record_events(world, session, [])
        with pytest.raises(ValidationError, match="events\\[0\\]: must be an object"):
            record_events(world, session, ["shared"])
