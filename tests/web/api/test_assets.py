"""The assets API: list with filters and paging, semantic search, upload, edit, delete."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from models import Asset
from tests.support.api import bearer
from web import create_app


def _count(baton, **where) -> int:
    with baton.session() as session:
        stmt = select(func.count()).select_from(Asset).where(Asset.status == "active")
        for key, value in where.items():
            stmt = stmt.where(getattr(Asset, key) == value)
        return session.scalar(stmt)


def test_list_pages_through_every_active_asset(client, keys, baton):
    seen, page = [], 1
    while True:
        body = client.get(f"/api/v1/assets?per_page=4&page={page}",
                          headers=bearer(keys["rep"])).get_json()
        assert body["total"] == _count(baton) and body["per_page"] == 4
        if not body["items"]:
            break
        assert len(body["items"]) <= 4
        seen.extend(item["id"] for item in body["items"])
        page += 1
    assert len(seen) == len(set(seen)) == _count(baton)


FILTERS = [
    ("stage=decision", lambda a: a["stage"] == "decision"),
    ("stage=Negotiation/Review", lambda a: a["stage"] == "decision"),
    ("type=case_study", lambda a: a["type"] == "case_study"),
    ("persona=cfo", lambda a: "cfo" in a["personas"]),
    ("industry=Logistics", lambda a: "logistics" in a["industries"]),
    ("stage=consideration&persona=operations",
     lambda a: a["stage"] == "consideration" and "operations" in a["personas"]),
]


def test_filters_return_only_matching_assets(client, keys):
    everything = client.get("/api/v1/assets", headers=bearer(keys["rep"])).get_json()["items"]
    for query, check in FILTERS:
        body = client.get(f"/api/v1/assets?{query}", headers=bearer(keys["rep"])).get_json()
        expected = sorted(a["id"] for a in everything if check(a))
        assert expected, f"{query} should match something in the test library"
        assert sorted(a["id"] for a in body["items"]) == expected, query
        assert body["total"] == len(expected), query


def test_semantic_search_ranks_with_scores_and_passages(client, keys):
    body = client.get("/api/v1/assets?q=SOC 2 encryption and data privacy&per_page=3",
                      headers=bearer(keys["rep"])).get_json()
    items = body["items"]
    assert 0 < len(items) <= 3
    assert items[0]["id"] == "security"
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    assert "encryption" in items[0]["passage"]
    filtered = client.get("/api/v1/assets?q=routes for trucks&type=case_study",
                          headers=bearer(keys["rep"])).get_json()["items"]
    assert filtered and all(i["type"] == "case_study" for i in filtered)


def test_page_size_is_capped_by_settings(settings, embedder, baton, keys):
    app = create_app({"instance_path": settings.instance_path,
                      "database_url": settings.database_url, "embedding_model": "baton-hashing",
                      "secret_key": "s", "testing": True, "page_size_max": 3}, embedder=embedder)
    body = app.test_client().get("/api/v1/assets?per_page=500",
                                 headers=bearer(keys["rep"])).get_json()
    assert body["per_page"] == 3 and len(body["items"]) == 3 and body["total"] > 3
    app.extensions["baton"].close()


def test_bad_query_parameters_are_422_naming_the_parameter(client, keys):
    for query, where in [("per_page=0", "per_page"), ("page=0", "page"), ("page=x", "page"),
                         ("type=brochure", "type")]:
        response = client.get(f"/api/v1/assets?{query}", headers=bearer(keys["rep"]))
        assert response.status_code == 422, query
        error = response.get_json()["error"]
        assert error["code"] == "validation_error" and where in error["message"], query


def test_unknown_stage_filter_lists_the_known_stages(client, keys):
    response = client.get("/api/v1/assets?stage=wishful", headers=bearer(keys["rep"]))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "wishful" in error["message"] and "consideration" in error["message"]


def test_get_one_and_404(client, keys):
    body = client.get("/api/v1/assets/cs-northwind", headers=bearer(keys["rep"])).get_json()
    assert body["id"] == "cs-northwind" and body["type"] == "case_study"
    assert body["personas"] == ["operations"] and body["url"].startswith("https://")
    missing = client.get("/api/v1/assets/nope", headers=bearer(keys["rep"]))
    assert missing.status_code == 404
    assert "nope" in missing.get_json()["error"]["message"]


UPLOAD = b"""---
title: Freight audit checklist
---
A checklist for logistics teams to audit freight invoices and cut costs before a renewal.
"""


def test_upload_creates_an_asset_with_its_metadata(client, keys):
    response = client.post(
        "/api/v1/assets", headers=bearer(keys["marketer"]),
        data={"file": (io.BytesIO(UPLOAD), "freight-audit.md"), "id": "freight-audit",
              "type": "ebook", "stage": "awareness", "personas": "operations, cfo",
              "url": "https://example.com/freight-audit"},
        content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"] == "freight-audit" and body["title"] == "Freight audit checklist"
    assert body["stage"] == "awareness" and body["type"] == "ebook"
    assert sorted(body["personas"]) == ["cfo", "operations"]
    assert response.headers["Location"].endswith("/api/v1/assets/freight-audit")
    again = client.get("/api/v1/assets/freight-audit", headers=bearer(keys["rep"]))
    assert again.status_code == 200 and again.get_json()["word_count"] > 5
    found = client.get("/api/v1/assets?q=audit freight invoices",
                       headers=bearer(keys["rep"])).get_json()["items"]
    assert found[0]["id"] == "freight-audit"


def test_upload_needs_a_file_and_valid_metadata(client, keys):
    no_file = client.post("/api/v1/assets", headers=bearer(keys["marketer"]),
                          data={"title": "x"}, content_type="multipart/form-data")
    assert no_file.status_code == 422 and "file" in no_file.get_json()["error"]["message"]
    bad_stage = client.post(
        "/api/v1/assets", headers=bearer(keys["marketer"]),
        data={"file": (io.BytesIO(UPLOAD), "a.md"), "stage": "someday"},
        content_type="multipart/form-data")
    assert bad_stage.status_code == 422 and "someday" in bad_stage.get_json()["error"]["message"]
    dup = client.post("/api/v1/assets", headers=bearer(keys["marketer"]),
                      data={"file": (io.BytesIO(UPLOAD), "a.md"), "id": "pricing"},
                      content_type="multipart/form-data")
    assert dup.status_code == 409


def test_oversized_upload_and_body_are_413(settings, embedder, baton, keys):
    app = create_app({"instance_path": settings.instance_path,
                      "database_url": settings.database_url, "embedding_model": "baton-hashing",
                      "secret_key": "s", "testing": True, "max_file_mb": 0.001,
                      "max_request_mb": 0.01}, embedder=embedder)
    client = app.test_client()
    big_file = client.post("/api/v1/assets", headers=bearer(keys["marketer"]),
                           data={"file": (io.BytesIO(b"word " * 1000), "big.txt")},
                           content_type="multipart/form-data")
    assert big_file.status_code == 413
    assert "MB" in big_file.get_json()["error"]["message"]
    big_body = client.post("/api/v1/events", headers=bearer(keys["rep"]),
                           data=b"[" + b" " * 20_000 + b"]", content_type="application/json")
    assert big_body.status_code == 413
    assert big_body.get_json()["error"]["code"] == "request_entity_too_large"
    app.extensions["baton"].close()


def test_patch_changes_metadata(client, keys):
    response = client.patch("/api/v1/assets/roi", headers=bearer(keys["marketer"]),
                            json={"title": "ROI calculator 2027", "stage": "decision",
                                  "industries": ["logistics"]})
    assert response.status_code == 200, response.get_json()
    body = client.get("/api/v1/assets/roi", headers=bearer(keys["rep"])).get_json()
    assert body["title"] == "ROI calculator 2027" and body["stage"] == "decision"
    assert body["industries"] == ["logistics"]


def test_bad_patch_is_rejected_naming_the_field(client, keys):
    for change, where in [({"type": "brochure"}, "type"), ({"colour": "red"}, "colour"),
                          ({"stage": "someday"}, "someday"), ({"expires": "soon"}, "expires")]:
        response = client.patch("/api/v1/assets/roi", headers=bearer(keys["marketer"]),
                                json=change)
        assert response.status_code == 422, change
        assert where in response.get_json()["error"]["message"], change
    assert client.get("/api/v1/assets/roi", headers=bearer(keys["rep"])).get_json()["type"] == (
        "roi_calculator")


def test_delete_removes_the_asset_from_the_api(client, keys, baton):
    before = _count(baton)
    assert client.delete("/api/v1/assets/blog-trends",
                         headers=bearer(keys["marketer"])).status_code == 204
    assert client.get("/api/v1/assets/blog-trends", headers=bearer(keys["rep"])).status_code == 404
    listed = client.get("/api/v1/assets?per_page=100", headers=bearer(keys["rep"])).get_json()
    assert "blog-trends" not in [a["id"] for a in listed["items"]]
    assert listed["total"] == before - 1
    assert client.delete("/api/v1/assets/blog-trends",
                         headers=bearer(keys["marketer"])).status_code == 404
    assert client.patch("/api/v1/assets/nope", json={"title": "x"},
                        headers=bearer(keys["marketer"])).status_code == 404
