"""The CRM sidebar: opened by a signed, expiring token; stuck flag, recommendations, buttons."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from models import ContentEvent, Opportunity
from models.recommendations import RecommendationLog
from recommender.domain import utcnow
from tests.support.api import bearer, make_keys, seed
from web import auth, create_app
from web.services.crm.opportunities import stuck_status

CRM = "https://acme.lightning.force.com"


@pytest.fixture
def app(settings, embedder, baton):
    application = create_app({"instance_path": settings.instance_path,
                              "database_url": settings.database_url,
                              "embedding_model": "baton-hashing", "secret_key": "test-secret",
                              "testing": True, "frame_ancestors": f"{CRM}, https://x.hubspot.com"},
                             embedder=embedder)
    yield application
    application.extensions["baton"].close()


@pytest.fixture
def keys(baton, embedder):
    seed(baton, embedder, notes="security review and SOC 2 questions from IT")
    return make_keys(baton)


def mint(client, key, opportunity_id="opp-1", **extra):
    response = client.post("/api/v1/sidebar-tokens", headers=bearer(key),
                           json={"opportunity_id": opportunity_id, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_panel_shows_stuck_flag_recommendations_and_buttons(client, keys, baton):
    minted = mint(client, keys["rep"], user="ana@acme.com")
    assert minted["url"].startswith("/sidebar/opp-1?token=")
    page = client.get(minted["url"])
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = unescape(page.get_data(as_text=True))
    with baton.session() as session:
        opp = session.get(Opportunity, "opp-1")
        status = stuck_status(baton, session, opp)
        log = session.scalars(select(RecommendationLog)).one()
    assert log.opportunity_id == "opp-1" and log.user == "ana@acme.com"
    assert "Deal opp-1" in html
    assert status.stuck  # the seeded deal entered its stage in February
    assert f"Stuck: {round(status.days_in_stage)} days in stage" in html
    assert f'data-recommendation="{log.recommendation_id}"' in html
    assert html.count('class="rec"') == log.k == 5
    assert html.count('data-action="share"') == 5 and html.count('data-action="helpful"') == 5
    assert "<blockquote>" in html  # quoted passage
    assert f'data-token="{minted["token"]}"' in html
    assert "sidebar.js" in html and "<script>" not in html  # no inline script under the CSP


def test_panel_may_be_framed_only_by_the_configured_crms(client, keys):
    page = client.get(mint(client, keys["rep"])["url"])
    csp = page.headers["Content-Security-Policy"]
    assert f"frame-ancestors {CRM} https://x.hubspot.com" in csp
    assert "X-Frame-Options" not in page.headers
    assert page.headers["Cache-Control"] == "no-store"
    api = client.get("/api/v1/openapi.json")
    assert "frame-ancestors 'none'" in api.headers["Content-Security-Policy"]


def test_bad_tokens_get_the_401_page(client, keys, monkeypatch):
    minted = mint(client, keys["rep"], minutes=5)
    token = minted["token"]
    other = mint(client, keys["rep"], opportunity_id="opp-1")["token"]
    assert client.get("/sidebar/opp-1").status_code == 401
    assert client.get("/sidebar/opp-1?token=garbage").status_code == 401
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/sidebar/opp-1?token={tampered}").status_code == 401
    assert client.get(f"/sidebar/opp-2?token={other}").status_code == 401  # another deal
    page = client.get(f"/sidebar/opp-1?token={token}")
    assert page.status_code == 200
    later = utcnow() + timedelta(minutes=6)
    monkeypatch.setattr(auth, "utcnow", lambda: later)
    expired = client.get(f"/sidebar/opp-1?token={token}")
    assert expired.status_code == 401 and "expired" in expired.get_data(as_text=True)
    api = client.post("/api/v1/events", headers=bearer(token), json={
        "opportunity_id": "opp-1", "asset_id": "roi", "event_type": "helpful"})
    assert api.status_code == 401


def test_token_from_another_secret_is_refused(client, keys, settings, embedder):
    other_app = create_app({"instance_path": settings.instance_path,
                            "database_url": settings.database_url,
                            "embedding_model": "baton-hashing", "secret_key": "other-secret",
                            "testing": True}, embedder=embedder)
    foreign = mint(other_app.test_client(), keys["rep"])["url"]
    other_app.extensions["baton"].close()
    assert client.get(foreign).status_code == 401


def test_minting_checks_the_opportunity_and_lifetime(client, keys):
    missing = client.post("/api/v1/sidebar-tokens", headers=bearer(keys["rep"]),
                          json={"opportunity_id": "nope"})
    assert missing.status_code == 404
    too_long = client.post("/api/v1/sidebar-tokens", headers=bearer(keys["rep"]),
                           json={"opportunity_id": "opp-1", "minutes": 10**6})
    assert too_long.status_code == 422 and "minutes" in too_long.get_json()["error"]["message"]


def test_the_panels_buttons_work_with_its_token(client, keys, baton):
    """What sidebar.js does: share (then the buyer follows the link) and rate, replay-safe."""
    token = mint(client, keys["rep"], user="ana@acme.com")["token"]
    html = client.get(f"/sidebar/opp-1?token={token}").get_data(as_text=True)
    recommendation = re.search(r'data-recommendation="([0-9a-f]+)"', html).group(1)
    asset = re.search(r'class="rec" data-asset="([^"]+)"', html).group(1)
    shared = client.post("/api/v1/shares", headers=bearer(token), json={
        "opportunity_id": "opp-1", "asset_id": asset, "recommendation_id": recommendation})
    assert shared.status_code == 201
    assert client.get(shared.get_json()["url"]).status_code in (200, 302)
    vote = {"event_id": f"sidebar-{recommendation}-{asset}-helpful", "opportunity_id": "opp-1",
            "asset_id": asset, "event_type": "helpful", "recommendation_id": recommendation}
    assert client.post("/api/v1/events", headers=bearer(token), json=vote).status_code == 201
    assert client.post("/api/v1/events", headers=bearer(token), json=vote).status_code == 200
    with baton.session() as session:
        rows = session.execute(select(ContentEvent.event_type, func.count()).where(
            ContentEvent.asset_id == asset, ContentEvent.recommendation_id == recommendation,
            ContentEvent.event_type != "recommended").group_by(ContentEvent.event_type)).all()
        users = set(session.scalars(select(ContentEvent.user).where(
            ContentEvent.asset_id == asset, ContentEvent.event_type == "helpful")))
    assert dict(rows) == {"shared": 1, "viewed": 1, "helpful": 1}
    assert users == {"ana@acme.com"}


def test_unknown_opportunity_with_a_valid_token_is_404(app, client, keys):
    with app.test_request_context():
        token, _expires = auth.mint_sidebar_token("ghost")
    assert client.get(f"/sidebar/ghost?token={token}").status_code == 404


def test_workers_without_a_configured_secret_accept_each_others_tokens(settings, embedder, keys):
    """Two gunicorn workers = two apps: the development secret lives in the instance folder."""
    config = {"instance_path": settings.instance_path, "database_url": settings.database_url,
              "embedding_model": "baton-hashing", "secret_key": "", "testing": True}
    first, second = create_app(config, embedder=embedder), create_app(config, embedder=embedder)
    try:
        assert first.secret_key and first.secret_key == second.secret_key
        url = mint(first.test_client(), keys["rep"])["url"]
        assert second.test_client().get(url).status_code == 200
    finally:
        first.extensions["baton"].close()
        second.extensions["baton"].close()
