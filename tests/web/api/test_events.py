"""The events API: one or a batch, Idempotency-Key and event_id replays never double count."""

from __future__ import annotations

from sqlalchemy import func, select

from models import ContentEvent
from tests.support.api import bearer


def _count(baton, **where) -> int:
    with baton.session() as session:
        stmt = select(func.count()).select_from(ContentEvent)
        for key, value in where.items():
            stmt = stmt.where(getattr(ContentEvent, key) == value)
        return session.scalar(stmt)


def event(**changes) -> dict:
    base = {"opportunity_id": "opp-1", "asset_id": "pricing", "event_type": "shared",
            "occurred_at": "2026-10-01T09:00:00Z"}
    return {**base, **changes}


def test_one_event_then_its_replay(client, keys, baton):
    headers = bearer(keys["rep"])
    first = client.post("/api/v1/events", json=event(event_id="ev-1"), headers=headers)
    assert first.status_code == 201
    assert first.get_json() == {"created": ["ev-1"], "duplicates": []}
    replay = client.post("/api/v1/events", json=event(event_id="ev-1"), headers=headers)
    assert replay.status_code == 200
    assert replay.get_json() == {"created": [], "duplicates": ["ev-1"]}
    assert _count(baton, event_id="ev-1") == 1
    with baton.session() as session:
        stored = session.scalar(select(ContentEvent).where(ContentEvent.event_id == "ev-1"))
        assert stored.user.startswith("api_key:")  # who called, when the event names no user


def test_batch_with_idempotency_key_replays_as_duplicates(client, keys, baton):
    headers = {**bearer(keys["rep"]), "Idempotency-Key": "crm-sync-42"}
    batch = [event(), event(asset_id="roi", event_type="viewed"),
             event(asset_id="security", event_type="helpful", user="ana")]
    before = _count(baton)
    first = client.post("/api/v1/events", json=batch, headers=headers)
    assert first.status_code == 201 and len(first.get_json()["created"]) == 3
    assert _count(baton) == before + 3
    for _ in range(2):
        replay = client.post("/api/v1/events", json=batch, headers=headers)
        assert replay.status_code == 200
        assert sorted(replay.get_json()["duplicates"]) == sorted(first.get_json()["created"])
    assert _count(baton) == before + 3
    # A partial replay plus a new event: only the new one counts.
    mixed = client.post("/api/v1/events", json=[event(event_id="ev-new"), *batch],
                        headers={**bearer(keys["rep"])})
    assert mixed.status_code == 201
    assert _count(baton) > before + 3


def test_same_id_with_different_content_is_a_conflict(client, keys, baton):
    headers = bearer(keys["rep"])
    assert client.post("/api/v1/events", json=event(event_id="ev-9"),
                       headers=headers).status_code == 201
    clash = client.post("/api/v1/events", json=event(event_id="ev-9", event_type="helpful"),
                        headers=headers)
    assert clash.status_code == 409
    assert "ev-9" in clash.get_json()["error"]["message"]
    assert _count(baton, event_id="ev-9") == 1


BAD = [
    (event(event_type="liked"), "event_type"),
    (event(asset_id="nope"), "nope"),
    (event(opportunity_id="nope"), "nope"),
    (event(occurred_at="last tuesday"), "occurred_at"),
    ([event(event_id="ok-1"), event(event_type="liked")], "[1]"),
    ([], "events"),
]


def test_bad_events_are_422_and_store_nothing(client, keys, baton):
    before = _count(baton)
    for body, where in BAD:
        response = client.post("/api/v1/events", json=body, headers=bearer(keys["rep"]))
        assert response.status_code == 422, (body, response.get_json())
        assert where in response.get_json()["error"]["message"], body
    assert _count(baton) == before  # all or nothing


def test_a_body_that_is_not_an_event_is_400(client, keys):
    for data in (b"not json", b"42", b'"text"'):
        response = client.post("/api/v1/events", data=data, content_type="application/json",
                               headers=bearer(keys["rep"]))
        assert response.status_code == 400, data
        assert response.get_json()["error"]["code"] == "bad_request"
