"""Every API route × every caller: anonymous, rep, marketer, admin, revoked key → exact status."""

from __future__ import annotations

import pytest

from tests.support.api import bearer

ANON, REP, MKT, ADMIN, REVOKED = "anonymous", "rep", "marketer", "admin", "revoked"
EVENT = {"event_id": "e-auth-{who}", "opportunity_id": "opp-1", "asset_id": "pricing",
         "event_type": "helpful"}
RULE = {"name": "rule-{who}", "condition": {"industry": "logistics"}, "action": "boost",
        "target": {"type": "roi_calculator"}, "weight": 0.5}

# (method, path, json body, minimum role, success status)
ROUTES = [
    ("GET", "/api/v1/assets", None, REP, 200),
    ("GET", "/api/v1/assets/pricing", None, REP, 200),
    ("PATCH", "/api/v1/assets/pricing", {"title": "Pricing {who}"}, MKT, 200),
    ("DELETE", "/api/v1/assets/security", None, MKT, 204),
    ("GET", "/api/v1/opportunities/opp-1", None, REP, 200),
    ("PUT", "/api/v1/opportunities/opp-{who}", {"stage": "Prospecting"}, REP, 201),
    ("GET", "/api/v1/opportunities/opp-1/recommendations?k=2", None, REP, 200),
    ("POST", "/api/v1/events", EVENT, REP, 201),
    ("GET", "/api/v1/rules", None, MKT, 200),
    ("POST", "/api/v1/rules", RULE, MKT, 201),
    ("POST", "/api/v1/shares", {"opportunity_id": "opp-1", "asset_id": "roi"}, REP, 201),
    ("POST", "/api/v1/sidebar-tokens", {"opportunity_id": "opp-1"}, REP, 201),
]
RANK = {REP: 0, MKT: 1, ADMIN: 2}


def expected(caller: str, minimum: str, success: int) -> int:
    if caller in (ANON, REVOKED):
        return 401
    return success if RANK[caller] >= RANK[minimum] else 403


def _fill(value, who):
    if isinstance(value, str):
        return value.replace("{who}", who)
    if isinstance(value, dict):
        return {k: _fill(v, who) for k, v in value.items()}
    return value


@pytest.mark.parametrize("caller", [ANON, REP, MKT, ADMIN, REVOKED])
def test_every_route_enforces_its_role(client, keys, caller):
    failures = []
    for method, path, body, minimum, success in ROUTES:
        want = expected(caller, minimum, success)
        if method == "DELETE" and want == success:
            path = path.replace("security", {REP: "cs-acme", MKT: "security",
                                             ADMIN: "blog-trends"}[caller])
        response = client.open(_fill(path, caller), method=method, json=_fill(body, caller),
                               headers=bearer(keys.get(caller)))
        if response.status_code != want:
            failures.append(f"{method} {path}: {response.status_code} != {want} "
                            f"{response.get_data(as_text=True)[:200]}")
        elif want >= 400:
            error = response.get_json()["error"]
            assert error["code"] == {401: "unauthorized", 403: "forbidden"}[want]
            assert error["message"]
    assert not failures, "\n".join(failures)


def test_delete_share_needs_a_key(client, keys):
    created = client.post("/api/v1/shares", json={"opportunity_id": "opp-1", "asset_id": "roi"},
                          headers=bearer(keys[REP])).get_json()
    path = f"/api/v1/shares/{created['id']}"
    assert client.delete(path).status_code == 401
    assert client.delete(path, headers=bearer(keys[REVOKED])).status_code == 401
    assert client.delete(path, headers=bearer(keys[REP])).status_code == 204


def test_malformed_credentials_are_401(client, keys):
    for header in ("Bearer", "Bearer ", "Basic abc", "Bearer bk_nope_nope", "Bearer not-a-key",
                   "bk_x_y", keys[REP]):
        response = client.get("/api/v1/assets", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.get_json()["error"]["code"] == "unauthorized"


def test_tampered_key_is_401(client, keys):
    key = keys[ADMIN]
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert client.get("/api/v1/assets", headers=bearer(tampered)).status_code == 401


def test_sidebar_token_opens_only_its_deals_sidebar_calls(client, keys, baton):
    with baton.session() as session:
        from tests.support.recommend_data import add_opportunity

        add_opportunity(session, "opp-2")
    token = client.post("/api/v1/sidebar-tokens", json={"opportunity_id": "opp-1"},
                        headers=bearer(keys[REP])).get_json()["token"]
    headers = bearer(token)
    # Not an API key: the general endpoints refuse it.
    assert client.get("/api/v1/assets", headers=headers).status_code == 401
    assert client.get("/api/v1/opportunities/opp-1", headers=headers).status_code == 401
    assert client.post("/api/v1/sidebar-tokens", json={"opportunity_id": "opp-1"},
                       headers=headers).status_code == 401
    # Its own deal's share and event calls work ...
    share = {"opportunity_id": "opp-1", "asset_id": "roi"}
    assert client.post("/api/v1/shares", json=share, headers=headers).status_code == 201
    event = {"opportunity_id": "opp-1", "asset_id": "roi", "event_type": "helpful"}
    assert client.post("/api/v1/events", json=event, headers=headers).status_code == 201
    # ... another deal's are forbidden.
    other = client.post("/api/v1/shares", json={**share, "opportunity_id": "opp-2"},
                        headers=headers)
    assert other.status_code == 403 and "opp-1" in other.get_json()["error"]["message"]
    batch = [event, {**event, "opportunity_id": "opp-2"}]
    assert client.post("/api/v1/events", json=batch, headers=headers).status_code == 403
    recs = client.get("/api/v1/opportunities/opp-2/recommendations", headers=headers)
    assert recs.status_code == 403


def test_error_envelope_for_unknown_route_and_method(client, keys):
    missing = client.get("/api/v1/nothing-here", headers=bearer(keys[REP]))
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    wrong = client.post("/api/v1/assets/pricing", headers=bearer(keys[ADMIN]))
    assert wrong.status_code == 405
    assert wrong.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]


def test_cors_allows_only_the_configured_origins_on_the_api(settings, embedder, baton, keys):
    from web import create_app

    app = create_app({"instance_path": settings.instance_path,
                      "database_url": settings.database_url, "embedding_model": "baton-hashing",
                      "secret_key": "s", "testing": True,
                      "cors_origins": "https://crm.example.com"}, embedder=embedder)
    client = app.test_client()
    preflight = {"Origin": "https://crm.example.com", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "Authorization, Idempotency-Key"}
    allowed = client.options("/api/v1/events", headers=preflight)
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://crm.example.com"
    assert "idempotency-key" in allowed.headers["Access-Control-Allow-Headers"].lower()
    refused = client.options("/api/v1/events",
                             headers={**preflight, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in refused.headers
    call = client.get("/api/v1/assets", headers={"Origin": "https://crm.example.com",
                                                  **bearer(keys[REP])})
    assert call.status_code == 200
    assert call.headers["Access-Control-Allow-Origin"] == "https://crm.example.com"
    page = client.get("/", headers={"Origin": "https://crm.example.com"})
    assert "Access-Control-Allow-Origin" not in page.headers  # only /api/*
    app.extensions["baton"].close()
    # Without an allow-list, no origin is allowed.
    plain = create_app({"instance_path": settings.instance_path,
                        "database_url": settings.database_url,
                        "embedding_model": "baton-hashing", "secret_key": "s", "testing": True},
                       embedder=embedder)
    response = plain.test_client().options("/api/v1/events", headers=preflight)
    assert "Access-Control-Allow-Origin" not in response.headers
    plain.extensions["baton"].close()
