"""The OpenAPI 3 document is valid, generated from the code, and covers every contract path."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

CONTRACT = {
    "/api/v1/assets": {"get", "post"},
    "/api/v1/assets/{asset_id}": {"get", "patch", "delete"},
    "/api/v1/opportunities": {"get"},
    "/api/v1/opportunities/{opportunity_id}": {"put", "get"},
    "/api/v1/opportunities/{opportunity_id}/recommendations": {"get"},
    "/api/v1/events": {"post"},
    "/api/v1/analytics/influence": {"get"},
    "/api/v1/analytics/gaps": {"get"},
    "/api/v1/rules": {"get", "post"},
    "/api/v1/rules/{rule_id}": {"get", "patch", "delete"},
    "/api/v1/shares": {"post"},
    "/api/v1/shares/{share_id}": {"delete"},
    "/api/v1/sidebar-tokens": {"post"},
}


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.get_json()


def test_document_is_valid_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_every_contract_path_and_method_is_documented(spec):
    for path, methods in CONTRACT.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), (path, set(spec["paths"][path]))


def test_operations_declare_auth_and_the_error_envelope(spec):
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    error = spec["components"]["schemas"]["Error"]
    assert "error" in error["properties"]
    for path, methods in CONTRACT.items():
        if "analytics" in path:
            continue  # documented by the analytics area
        for method in methods:
            operation = spec["paths"][path][method]
            assert operation["security"] == [{"bearerAuth": []}], (path, method)
            assert {"401", "403"} <= set(operation["responses"]), (path, method)
            assert operation["x-required-role"] in ("rep", "marketer", "admin")


def test_recommendation_items_carry_the_contract_fields(spec):
    item = spec["components"]["schemas"]["RecommendedAsset"]["properties"]
    assert {"asset_id", "title", "url", "type", "stage", "score", "reasons",
            "recommendation_id"} <= set(item)
    query = spec["paths"]["/api/v1/opportunities/{opportunity_id}/recommendations"]["get"]
    assert "k" in {p["name"] for p in query["parameters"]}


def test_upload_is_documented_as_multipart(spec):
    body = spec["paths"]["/api/v1/assets"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body
    ref = body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = spec["components"]["schemas"][ref]["properties"]
    assert properties["file"]["format"] == "binary" and {"title", "stage", "type"} <= set(
        properties)


def test_docs_page_is_served_offline_under_the_csp(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/openapi.json" in html
    assert "<script>" not in html and "cdn" not in html.lower()
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    for src in ("swagger-ui-bundle.js", "swagger-ui.css", "api-docs.js"):
        assert src in html
    bundle = client.get("/api/docs/static/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.data) > 100_000
    assert client.get("/api/docs/static/../../../etc/passwd").status_code == 404
    assert client.get("/api/docs/static/index.html").status_code == 404
    with client.get("/static/api-docs.js") as script:
        assert script.status_code == 200 and b"SwaggerUIBundle" in script.data
    bundle.close()
