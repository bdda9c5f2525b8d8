"""Tracked share links: created through the API, followed at /r/<token>, counted, revoked."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from models import Asset, ContentEvent
from models.recommendations import ShareLink
from tests.support.api import bearer


def share(client, key, asset_id="roi", opportunity_id="opp-1"):
    return client.post("/api/v1/shares", json={"opportunity_id": opportunity_id,
                                               "asset_id": asset_id}, headers=bearer(key))


def _views(baton, asset_id):
    with baton.session() as session:
        return session.scalar(select(func.count()).select_from(ContentEvent).where(
            ContentEvent.asset_id == asset_id, ContentEvent.event_type == "viewed"))


def test_share_redirects_the_buyer_and_counts_each_view(client, keys, baton):
    created = share(client, keys["rep"])
    assert created.status_code == 201
    body = created.get_json()
    assert body["url"].startswith("/r/") and body["absolute_url"].endswith(body["url"])
    assert body["asset_id"] == "roi" and created.headers["Location"] == body["url"]
    with baton.session() as session:
        shared = session.scalar(select(ContentEvent).where(
            ContentEvent.event_id == body["event_id"]))
        assert shared.event_type == "shared" and shared.user.startswith("api_key:")
    for expected_views in (1, 2):
        followed = client.get(body["url"])
        assert followed.status_code == 302
        assert followed.headers["Location"] == "https://example.com/roi"
        assert followed.headers["Referrer-Policy"] == "no-referrer"
        assert followed.headers["Cache-Control"] == "no-store"
        assert _views(baton, "roi") == expected_views
    with baton.session() as session:
        link = session.get(ShareLink, body["id"])
        assert link.view_count == 2 and link.first_viewed_at <= link.last_viewed_at
        assert body["token"] not in (link.token_hash or "")


def test_revoked_and_unknown_links_are_the_same_404(client, keys, baton):
    body = share(client, keys["rep"]).get_json()
    assert client.delete(f"/api/v1/shares/{body['id']}",
                         headers=bearer(keys["rep"])).status_code == 204
    revoked = client.get(body["url"])
    unknown = client.get("/r/" + "x" * 32)
    assert revoked.status_code == unknown.status_code == 404
    assert revoked.data == unknown.data
    text = revoked.get_data(as_text=True)
    assert "roi" not in text.lower() and "example.com" not in text
    assert _views(baton, "roi") == 0
    # Revoking twice is fine; an unknown id is 404 in the envelope.
    assert client.delete(f"/api/v1/shares/{body['id']}",
                         headers=bearer(keys["rep"])).status_code == 204
    missing = client.delete("/api/v1/shares/999999", headers=bearer(keys["rep"]))
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_cannot_share_unknown_archived_or_expired_assets(client, keys, baton):
    assert share(client, keys["rep"], asset_id="nope").status_code == 404
    assert share(client, keys["rep"], opportunity_id="nope").status_code == 404
    expired = share(client, keys["rep"], asset_id="old-datasheet")
    assert expired.status_code == 422 and "expired" in expired.get_json()["error"]["message"]
    with baton.session() as session:
        session.get(Asset, "cs-acme").status = "archived"
    archived = share(client, keys["rep"], asset_id="cs-acme")
    assert archived.status_code == 422 and "archived" in archived.get_json()["error"]["message"]
    unknown_key = client.post("/api/v1/shares", json={"opportunity_id": "opp-1",
                                                      "asset_id": "roi", "colour": "red"},
                              headers=bearer(keys["rep"]))
    assert unknown_key.status_code == 422 and "colour" in unknown_key.get_json()["error"][
        "message"]


def test_a_stored_file_is_served_when_the_asset_has_no_url(client, keys):
    upload = client.post(
        "/api/v1/assets", headers=bearer(keys["marketer"]),
        data={"file": (io.BytesIO(b"Route planning one-pager for dispatchers."), "onepager.txt"),
              "id": "onepager", "type": "datasheet", "stage": "consideration"},
        content_type="multipart/form-data")
    assert upload.status_code == 201, upload.get_json()
    body = share(client, keys["rep"], asset_id="onepager").get_json()
    with client.get(body["url"]) as served:
        assert served.status_code == 200
        assert served.data == b"Route planning one-pager for dispatchers."
        assert served.mimetype == "text/plain"


def test_unsafe_asset_urls_are_never_redirected_to(client, keys, baton):
    body = share(client, keys["rep"]).get_json()
    with baton.session() as session:
        session.get(Asset, "roi").url = "javascript:alert(1)"
    response = client.get(body["url"])
    assert response.status_code == 404 and "Location" not in response.headers
