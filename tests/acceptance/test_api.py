"""Contract 5: the HTTP API under /api/v1 (auth, roles, envelope, every endpoint) and sidebar."""

from __future__ import annotations

import io

import pytest

from tests.acceptance.conftest import Api, make_env, run_cli
from tests.acceptance.world import ASSETS, write_content

ITEM_KEYS = {"asset_id", "title", "url", "type", "stage", "score", "reasons", "recommendation_id"}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """An instance with the 12-asset library ingested and one API key per role."""
    root = tmp_path_factory.mktemp("api")
    write_content(root / "content")
    env = make_env(root)
    assert run_cli(env, "ingest", str(root / "content")).code == 0
    client = Api(env)
    yield client
    client.close()


def _error(res, status: int) -> dict:
    assert res.status_code == status, (res.status_code, res.get_data(as_text=True)[:300])
    body = res.get_json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] and body["error"]["message"], body
    return body["error"]


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/assets"), ("GET", "/api/v1/assets/acc-qa"),
    ("PUT", "/api/v1/opportunities/X"), ("GET", "/api/v1/opportunities/X/recommendations"),
    ("POST", "/api/v1/events"), ("GET", "/api/v1/analytics/influence"),
    ("GET", "/api/v1/analytics/gaps"),
])
def test_no_key_or_bad_key_is_401_with_envelope(api, method, path):
    _error(api.call(method, path, role=None, json={}), 401)
    _error(api.call(method, path, role=None, json={},
                    headers={"Authorization": "Bearer not-a-real-key"}), 401)


def test_roles_rep_marketer_admin(api):
    upload = {"file": (io.BytesIO(b"A one-page faq about pallets.\n" * 20), "pallets.txt"),
              "id": "role-check", "type": "faq", "stage": "decision"}
    _error(api.call("POST", "/api/v1/assets", role="rep", data=upload,
                    content_type="multipart/form-data"), 403)
    _error(api.call("PATCH", "/api/v1/assets/acc-qa", role="rep", json={"title": "x"}), 403)
    _error(api.call("DELETE", "/api/v1/assets/acc-qa", role="rep"), 403)
    # a rep may read, a marketer may edit
    assert api.call("GET", "/api/v1/assets/acc-qa", role="rep").status_code == 200
    res = api.call("PATCH", "/api/v1/assets/acc-qa", role="marketer", json={"title": "FAQ v2"})
    assert res.status_code == 200, res.get_json()
    assert api.call("GET", "/api/v1/assets/acc-qa", role="rep").get_json()["title"] == "FAQ v2"


def test_assets_filters_pagination_and_search(api):
    page1 = api.call("GET", "/api/v1/assets?per_page=5&page=1", role="rep").get_json()
    page3 = api.call("GET", "/api/v1/assets?per_page=5&page=3", role="rep").get_json()
    assert page1["total"] >= 12 and len(page1["items"]) == 5
    all_ids = {a["id"] for p in (1, 2, 3, 4)
               for a in api.call("GET", f"/api/v1/assets?per_page=5&page={p}",
                                 role="rep").get_json()["items"]}
    assert len(all_ids) == page1["total"]
    assert page3["items"] and not {a["id"] for a in page1["items"]} & {a["id"] for a in
                                                                         page3["items"]}
    decision = api.call("GET", "/api/v1/assets?stage=Decision&per_page=100", role="rep")
    ids = {a["id"] for a in decision.get_json()["items"]}
    want = {k for k, (_, stage, _) in ASSETS.items() if stage == "decision"}
    assert want <= ids and all(a["stage"] == "decision" for a in decision.get_json()["items"])
    by_type = api.call("GET", "/api/v1/assets?type=case_study", role="rep").get_json()["items"]
    assert {a["id"] for a in by_type} >= {"acc-peer-story"}
    assert all(a["type"] == "case_study" for a in by_type)
    assert api.call("GET", "/api/v1/assets?persona=operations&industry=food-beverage",
                    role="rep").get_json()["total"] >= 12
    assert api.call("GET", "/api/v1/assets?persona=cio", role="rep").get_json()["total"] == 0
    hits = api.call("GET", "/api/v1/assets?q=SOC 2 encryption answers", role="rep").get_json()
    assert hits["items"][0]["id"] == "acc-soc2-pack"
    _error(api.call("GET", "/api/v1/assets?stage=nowhere", role="rep"), 400) if \
        api.call("GET", "/api/v1/assets?stage=nowhere", role="rep").status_code == 400 else \
        _error(api.call("GET", "/api/v1/assets?stage=nowhere", role="rep"), 422)


def test_upload_patch_delete_asset(api):
    data = {"file": (io.BytesIO(b"# Tariffs\n\nHow tariffs change landed cost.\n" * 10),
                     "tariffs.md"),
            "id": "up-tariffs", "title": "Tariff explainer", "type": "whitepaper",
            "stage": " Awareness ", "personas": "cfo,procurement", "url": "https://e.org/t"}
    res = api.call("POST", "/api/v1/assets", role="marketer", data=data,
                   content_type="multipart/form-data")
    assert res.status_code == 201, res.get_json()
    got = api.call("GET", "/api/v1/assets/up-tariffs", role="rep").get_json()
    assert got["stage"] == "awareness" and got["personas"] == ["cfo", "procurement"]
    assert got["type"] == "whitepaper"
    err = _error(api.call("PATCH", "/api/v1/assets/up-tariffs", role="marketer",
                          json={"stage": "Limbo"}), 422 if True else 400) if \
        api.call("PATCH", "/api/v1/assets/up-tariffs", role="marketer",
                 json={"stage": "Limbo"}).status_code == 422 else \
        _error(api.call("PATCH", "/api/v1/assets/up-tariffs", role="marketer",
                        json={"stage": "Limbo"}), 400)
    assert "Limbo" in err["message"] and "awareness" in err["message"]
    res = api.call("DELETE", "/api/v1/assets/up-tariffs", role="marketer")
    assert res.status_code in (200, 204)
    _error(api.call("GET", "/api/v1/assets/up-tariffs", role="rep"), 404)


def test_opportunity_upsert_records_stage_change(api):
    body = {"name": "Vireo", "account": "Vireo Foods", "industry": "food-beverage",
            "persona": "operations", "amount": 40000, "owner": "ann",
            "stage": "prospecting", "created_at": "2026-02-01T09:00:00Z"}
    first = api.call("PUT", "/api/v1/opportunities/V-1", role="rep", json=body)
    assert first.status_code == 201, first.get_json()
    same = api.call("PUT", "/api/v1/opportunities/V-1", role="rep", json=body)
    assert same.status_code == 200
    moved = api.call("PUT", "/api/v1/opportunities/V-1", role="rep",
                     json={"stage": "  NEEDS ANALYSIS "})
    assert moved.status_code == 200, moved.get_json()
    got = api.call("GET", "/api/v1/opportunities/V-1", role="rep").get_json()
    assert got["stage"] == "Needs Analysis" and got["buying_stage"] == "consideration"
    assert got["name"] == "Vireo"  # a partial upsert keeps the other fields
    from sqlalchemy import create_engine, text

    engine = create_engine(api.app.extensions["baton"].settings.database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT from_stage, to_stage FROM stage_changes "
                                 "WHERE opportunity_id='V-1'")).all()
    engine.dispose()
    assert ("Prospecting", "Needs Analysis") in [tuple(r) for r in rows]
    err = _error(api.call("PUT", "/api/v1/opportunities/V-1", role="rep",
                          json={"stage": "Sleeping"}), 422) if api.call(
        "PUT", "/api/v1/opportunities/V-1", role="rep",
        json={"stage": "Sleeping"}).status_code == 422 else _error(api.call(
            "PUT", "/api/v1/opportunities/V-1", role="rep", json={"stage": "Sleeping"}), 400)
    assert "Sleeping" in err["message"] and "Needs Analysis" in err["message"]
    _error(api.call("GET", "/api/v1/opportunities/NOPE", role="rep"), 404)
    # the whole baton-format row, opportunity_id included, is a valid upsert body
    row = {"opportunity_id": "V-2", "name": "Row", "account": "Acme", "industry": "retail",
           "persona": "cfo", "amount": 100, "owner": "ann", "created_at": "2026-01-01T00:00:00Z",
           "stage": "Prospecting", "stage_entered_at": "2026-01-01T00:00:00Z", "status": "open",
           "closed_at": None, "notes": "from the CRM"}
    res = api.call("PUT", "/api/v1/opportunities/V-2", role="rep", json=row)
    assert res.status_code == 201, res.get_json()
    _error(api.call("PUT", "/api/v1/opportunities/V-3", role="rep", json=row), 422)


def test_recommendations_shape_and_events_idempotency(api):
    api.call("PUT", "/api/v1/opportunities/W-1", role="rep", json={
        "name": "Wagtail", "stage": "Value Proposition", "persona": "operations",
        "industry": "food-beverage", "created_at": "2026-02-01T09:00:00Z"})
    res = api.call("GET", "/api/v1/opportunities/W-1/recommendations?k=5", role="rep")
    assert res.status_code == 200, res.get_json()
    items = res.get_json()["recommendations"]
    assert len(items) == 5
    for item in items:
        assert ITEM_KEYS <= set(item), item
        assert isinstance(item["reasons"], list) and item["reasons"]
        assert item["type"] in {t for t, _, _ in ASSETS.values()}
    assert len({i["asset_id"] for i in items}) == 5
    _error(api.call("GET", "/api/v1/opportunities/NOPE/recommendations?k=5", role="rep"), 404)
    rid, asset = items[0]["recommendation_id"], items[0]["asset_id"]
    event = {"opportunity_id": "W-1", "asset_id": asset, "event_type": "shared",
             "recommendation_id": rid, "occurred_at": "2026-02-03T10:00:00Z"}
    one = api.call("POST", "/api/v1/events", role="rep", json=event,
                   headers={"Idempotency-Key": "share-w1-1"})
    assert one.status_code in (200, 201), one.get_json()
    replay = api.call("POST", "/api/v1/events", role="rep", json=event,
                      headers={"Idempotency-Key": "share-w1-1"})
    assert replay.status_code in (200, 201)
    batch = [{**event, "event_id": "b-1", "event_type": "viewed"},
             {**event, "event_id": "b-2", "event_type": "helpful"}]
    api.call("POST", "/api/v1/events", role="rep", json=batch)
    again = api.call("POST", "/api/v1/events", role="rep", json=batch)
    assert again.status_code in (200, 201), again.get_json()
    from sqlalchemy import create_engine, text

    engine = create_engine(api.app.extensions["baton"].settings.database_url)
    with engine.connect() as conn:
        counts = dict(conn.execute(text(
            "SELECT event_type, COUNT(*) FROM content_events WHERE opportunity_id='W-1' "
            "AND event_type != 'recommended' GROUP BY event_type")).all())
    engine.dispose()
    assert counts == {"shared": 1, "viewed": 1, "helpful": 1}, counts
    _error(api.call("POST", "/api/v1/events", role="rep",
                    json={**event, "event_type": "teleported"}), 422)
    wrapped = {"events": [{**event, "event_id": "w-1", "event_type": "not_helpful"}]}
    assert api.call("POST", "/api/v1/events", role="rep", json=wrapped).status_code == 201
    assert api.call("POST", "/api/v1/events", role="rep", json=wrapped).status_code == 200


def test_recommendation_scores_are_in_ranked_order(api):
    api.call("PUT", "/api/v1/opportunities/R-1", role="rep", json={
        "name": "Order", "stage": "Value Proposition", "persona": "operations"})
    for _ in range(10):
        items = api.call("GET", "/api/v1/opportunities/R-1/recommendations?k=5",
                         role="rep").get_json()["recommendations"]
        scores = [i["score"] for i in items]
        assert scores == sorted(scores, reverse=True), scores


def test_analytics_and_openapi_and_sidebar(api):
    inf = api.call("GET", "/api/v1/analytics/influence", role="marketer")
    assert inf.status_code == 200, inf.get_json()
    gaps = api.call("GET", "/api/v1/analytics/gaps", role="marketer")
    assert gaps.status_code == 200, gaps.get_json()
    spec = api.call("GET", "/api/v1/openapi.json", role=None)
    assert spec.status_code == 200
    doc = spec.get_json()
    from openapi_spec_validator import validate

    validate(doc)
    assert doc["openapi"].startswith("3.")
    paths = set(doc["paths"])
    for path in ("/api/v1/assets", "/api/v1/assets/{asset_id}",
                 "/api/v1/opportunities/{opportunity_id}",
                 "/api/v1/opportunities/{opportunity_id}/recommendations",
                 "/api/v1/events", "/api/v1/analytics/influence", "/api/v1/analytics/gaps"):
        assert path in paths, sorted(paths)
    api.call("PUT", "/api/v1/opportunities/S-1", role="rep", json={
        "name": "Sidebar deal", "stage": "Proposal/Price Quote"})
    side = api.call("GET", "/sidebar/S-1", role="rep")
    assert side.status_code == 200
    assert side.mimetype == "text/html"
    html = side.get_data(as_text=True)
    assert "<html" in html.lower() and any(a in html for a in ASSETS)
