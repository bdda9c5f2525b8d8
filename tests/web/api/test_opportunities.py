"""The opportunities API: CRM upsert with stage history, read with stuck flag, recommendations."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import StageChange
from models.recommendations import RecommendationLog
from tests.support.api import bearer, make_keys, seed

ITEM_FIELDS = {"asset_id", "title", "url", "type", "stage", "score", "reasons",
               "recommendation_id"}


@pytest.fixture
def keys(baton, embedder):
    seed(baton, embedder, notes="the CFO raised a pricing objection on contract terms")
    return make_keys(baton)


def _history(baton, opportunity_id):
    with baton.session() as session:
        return [(c.from_stage, c.to_stage) for c in session.scalars(
            select(StageChange).where(StageChange.opportunity_id == opportunity_id)
            .order_by(StageChange.changed_at, StageChange.id))]


def test_put_creates_then_updates_and_records_stage_changes(client, keys, baton):
    headers = bearer(keys["rep"])
    deal = {"name": "Initech fleet", "account": "Initech", "industry": "logistics",
            "amount": 120000, "stage": "Qualification", "owner": "ana",
            "stage_entered_at": "2026-09-01T10:00:00Z", "notes": "wants routing"}
    created = client.put("/api/v1/opportunities/006X1", json=deal, headers=headers)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["opportunity_id"] == "006X1" and body["buying_stage"] == "awareness"
    assert body["amount"] == 120000 and body["status"] == "open"
    assert set(body["stuck"]) >= {"stuck", "days_in_stage", "threshold_days", "reason"}
    assert body["stuck"]["days_in_stage"] > 0

    same = client.put("/api/v1/opportunities/006X1", json=deal, headers=headers)
    assert same.status_code == 200
    assert _history(baton, "006X1") == [(None, "Qualification")]

    moved = client.put("/api/v1/opportunities/006X1", headers=headers,
                       json={"stage": " needs analysis ", "amount": 130000})
    assert moved.status_code == 200
    assert moved.get_json()["buying_stage"] == "consideration"
    assert moved.get_json()["name"] == "Initech fleet"  # fields not sent are kept
    assert _history(baton, "006X1") == [(None, "Qualification"),
                                        ("Qualification", "Needs Analysis")]
    read = client.get("/api/v1/opportunities/006X1", headers=headers).get_json()
    assert read["stage"] == "Needs Analysis" and read["amount"] == 130000


def test_put_understands_the_hubspot_pipeline(client, keys):
    response = client.put("/api/v1/opportunities/hs-1", headers=bearer(keys["rep"]),
                          json={"pipeline": "hubspot", "stage": "contractsent"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["buying_stage"] == "decision"


BAD_UPSERTS = [
    ({"stage": "Wishful Thinking"}, "Wishful Thinking"),
    ({"stage": "Prospecting", "amount": -5}, "amount"),
    ({"stage": "Prospecting", "colour": "red"}, "colour"),
    ({"stage": "Prospecting", "created_at": "yesterday"}, "created_at"),
    ({"stage": "Prospecting", "status": "maybe"}, "status"),
    ({"name": "no stage"}, "stage"),
]


def test_bad_upserts_are_422_naming_the_field(client, keys):
    for body, where in BAD_UPSERTS:
        response = client.put("/api/v1/opportunities/bad-1", json=body,
                              headers=bearer(keys["rep"]))
        assert response.status_code == 422, (body, response.get_json())
        assert where in response.get_json()["error"]["message"], body
    assert client.get("/api/v1/opportunities/bad-1",
                      headers=bearer(keys["rep"])).status_code == 404  # nothing half-stored


def test_unknown_stage_error_lists_the_known_stages(client, keys):
    error = client.put("/api/v1/opportunities/bad-2", json={"stage": "Limbo"},
                       headers=bearer(keys["rep"])).get_json()["error"]
    assert "Prospecting" in error["message"] and "Limbo" in error["message"]


def test_get_unknown_opportunity_is_404(client, keys):
    response = client.get("/api/v1/opportunities/nope", headers=bearer(keys["rep"]))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_recommendations_are_ranked_explained_and_logged(client, keys, baton):
    response = client.get("/api/v1/opportunities/opp-1/recommendations?k=4",
                          headers=bearer(keys["rep"]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["opportunity_id"] == "opp-1" and body["buying_stage"] == "decision"
    items = body["recommendations"]
    assert len(items) == 4
    for item in items:
        assert ITEM_FIELDS <= set(item)
        assert item["recommendation_id"] == body["recommendation_id"]
        assert item["reasons"] and all(isinstance(r, str) and r for r in item["reasons"])
        assert 0 < item["propensity"] <= 1
    assert "old-datasheet" not in {i["asset_id"] for i in items}  # expired
    assert [i["rank"] for i in items] == [1, 2, 3, 4]
    with baton.session() as session:
        log = session.get(RecommendationLog, body["recommendation_id"])
        assert log is not None and log.k == 4 and log.user.startswith("api_key:")


def test_recommendations_default_k_and_bad_k(client, keys):
    headers = bearer(keys["rep"])
    default = client.get("/api/v1/opportunities/opp-1/recommendations", headers=headers)
    assert len(default.get_json()["recommendations"]) == 5
    for bad in ("0", "51", "many"):
        response = client.get(f"/api/v1/opportunities/opp-1/recommendations?k={bad}",
                              headers=headers)
        assert response.status_code == 422 and "k" in response.get_json()["error"]["message"]
    missing = client.get("/api/v1/opportunities/nope/recommendations", headers=headers)
    assert missing.status_code == 404


def test_list_filters_and_pages(client, keys, baton):
    from tests.support.recommend_data import add_opportunity

    with baton.session() as session:
        for i in range(5):
            add_opportunity(session, f"list-{i}", stage="Prospecting", buying_stage="awareness",
                            owner="bo" if i % 2 else "ana")
    headers = bearer(keys["rep"])
    body = client.get("/api/v1/opportunities?stage=prospecting&per_page=2",
                      headers=headers).get_json()
    assert body["total"] == 5 and len(body["items"]) == 2 and body["per_page"] == 2
    assert all(o["stage"] == "Prospecting" for o in body["items"])
    owned = client.get("/api/v1/opportunities?owner=bo", headers=headers).get_json()
    assert sorted(o["opportunity_id"] for o in owned["items"]) == ["list-1", "list-3"]
    bad = client.get("/api/v1/opportunities?status=maybe", headers=headers)
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["message"]
    assert client.get("/api/v1/opportunities").status_code == 401
