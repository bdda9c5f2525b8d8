"""Analytics API through the real app: auth, influence, gaps, review downloads, OpenAPI."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support.analytics_data import MODEL_EFFECTS, FittedEffects, add_world
from tests.support.api import bearer
from web.services import accounts
from web.services.learning import analytics


@pytest.fixture
def keys(app):
    baton = app.extensions["baton"]
    with baton.session() as session:
        add_world(session)
        return {role: accounts.create_api_key(session, role)[0]
                for role in ("rep", "marketer", "admin")}


@pytest.fixture
def trained(monkeypatch):
    monkeypatch.setattr(analytics, "current_model", lambda baton: FittedEffects(MODEL_EFFECTS))


@pytest.mark.parametrize("path", ["/api/v1/analytics/influence", "/api/v1/analytics/gaps",
                                  "/api/v1/analytics/review"])
def test_analytics_needs_a_marketer_key(client, keys, path):
    missing = client.get(path)
    assert missing.status_code == 401 and missing.get_json()["error"]["code"] == "unauthorized"
    wrong = client.get(path, headers=bearer("bk_nope_nope"))
    assert wrong.status_code == 401
    rep = client.get(path, headers=bearer(keys["rep"]))
    assert rep.status_code == 403 and rep.get_json()["error"]["code"] == "forbidden"
    assert client.get(path, headers=bearer(keys["admin"])).status_code == 200


def test_influence_without_a_model(client, keys, monkeypatch):
    monkeypatch.setattr(analytics, "current_model", lambda baton: None)
    body = client.get("/api/v1/analytics/influence", headers=bearer(keys["marketer"])).get_json()
    assert body["model_trained"] is False and "baton train" in body["message"]
    assert body["rows"] and {r["verdict"] for r in body["rows"]} == {"not enough data"}


def test_influence_rows_and_stage_filter(client, keys, trained):
    body = client.get("/api/v1/analytics/influence?stage=consideration",
                      headers=bearer(keys["marketer"])).get_json()
    assert body["model_trained"] is True and body["message"] is None
    rows = {r["asset_id"]: r for r in body["rows"]}
    assert set(rows) == {"roi", "case", "decoy", "pricing"}
    assert rows["roi"]["verdict"] == "helps" and rows["roi"]["lower"] > 0
    assert rows["pricing"]["verdict"] == "hurts"
    assert rows["decoy"]["win_rate_used"] == 1.0 and rows["decoy"]["support"] == 150
    seg = client.get("/api/v1/analytics/influence?stage=consideration&segments=true",
                     headers=bearer(keys["marketer"])).get_json()
    assert any(r["segment"] == "industry=retail" for r in seg["rows"])


def test_influence_bad_stage_is_a_clear_422(client, keys, trained):
    res = client.get("/api/v1/analytics/influence?stage=Nowhere",
                     headers=bearer(keys["marketer"]))
    assert res.status_code == 422
    error = res.get_json()["error"]
    assert error["code"] == "unknown_stage" and "Nowhere" in error["message"]
    bad = client.get("/api/v1/analytics/influence?min_support=-1",
                     headers=bearer(keys["marketer"]))
    assert bad.status_code == 422 and "min_support" in bad.get_json()["error"]["message"]


def test_gaps(client, keys, trained):
    body = client.get("/api/v1/analytics/gaps", headers=bearer(keys["marketer"])).get_json()
    cells = {(c["buying_stage"], c["persona"], c["industry"]): c for c in body["cells"]}
    cell = cells[("decision", "security", "healthcare")]
    assert cell["status"] == "no asset that helps" and cell["open_requests"] == 1
    assert cell["assets"] == ["pricing"]
    everything = client.get("/api/v1/analytics/gaps?all=true",
                            headers=bearer(keys["marketer"])).get_json()
    assert len(everything["cells"]) > len(body["cells"])


def test_review_downloads(client, keys, trained):
    md = client.get("/api/v1/analytics/review?period=2026%20Q1", headers=bearer(keys["marketer"]))
    assert md.status_code == 200 and md.mimetype == "text/markdown"
    assert "content-review.md" in md.headers["Content-Disposition"]
    assert md.get_data(as_text=True).startswith("# Content review — 2026 Q1")
    res = client.get("/api/v1/analytics/review?format=csv", headers=bearer(keys["marketer"]))
    assert res.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(res.get_data(as_text=True))))
    assert next(r for r in rows if r["asset_id"] == "roi")["title"].startswith("'=")
    bad = client.get("/api/v1/analytics/review?format=pdf", headers=bearer(keys["marketer"]))
    assert bad.status_code == 422 and bad.get_json()["error"]["message"]


def test_openapi_describes_analytics(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    influence = spec["paths"]["/api/v1/analytics/influence"]["get"]
    assert {"401", "403", "200"} <= set(influence["responses"])
    assert any(p["name"] == "stage" for p in influence["parameters"])
    schemas = spec["components"]["schemas"]
    row = next(s for name, s in schemas.items() if name.startswith("InfluenceRow"))
    assert {"effect", "lower", "upper", "support", "verdict", "win_rate_used"} <= set(
        row["properties"])
    review = spec["paths"]["/api/v1/analytics/review"]["get"]["responses"]["200"]
    assert {"text/markdown", "text/csv"} <= set(review["content"])
