"""Deal desk: pipeline, stuck deals, opportunity page, share, feedback, content requests."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import ContentEvent, ContentRequest
from tests.support.ui import post_form, sign_in


def _deal_ids(html: str) -> list[str]:
    return re.findall(r'href="/deals/(opp-[^"]+)"', html)


def test_pipeline_lists_open_deals_and_highlights_the_stuck_one(client, data):
    sign_in(client, "rep")
    body = client.get("/deals").get_data(as_text=True)
    ids = _deal_ids(body)
    assert set(ids) == {"opp-stuck", "opp-fresh", "opp-early"}
    assert ids == ["opp-early", "opp-fresh", "opp-stuck"]  # pipeline order
    row = re.search(r'<tr class="stuck">.*?</tr>', body, re.S).group(0)
    assert "opp-stuck" in row
    assert _deal_ids(client.get("/deals?stuck=1").get_data(as_text=True)) == ["opp-stuck"]


def test_pipeline_sorts_by_days_in_stage_both_ways(client, data):
    sign_in(client, "rep")
    ids = _deal_ids(client.get("/deals?sort=days&desc=1").get_data(as_text=True))
    assert ids == ["opp-stuck", "opp-early", "opp-fresh"]
    ids = _deal_ids(client.get("/deals?sort=days&desc=0").get_data(as_text=True))
    assert ids == ["opp-fresh", "opp-early", "opp-stuck"]
    assert client.get("/deals?sort=bogus").status_code == 422


def test_pipeline_paginates_and_has_an_empty_state(client, data, users):
    sign_in(client, "rep")
    body = client.get("/deals?per_page=2").get_data(as_text=True)
    assert len(_deal_ids(body)) == 2 and "Page 1 of 2" in body


def test_empty_pipeline_explains_how_to_import(client, users):
    sign_in(client, "rep")
    body = client.get("/deals").get_data(as_text=True)
    assert "No open deals yet" in body and "baton import-crm" in body


def test_deal_page_shows_recommendations_with_reasons_history_and_requests(client, data):
    sign_in(client, "rep")
    response = client.get("/deals/opp-stuck")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    recs = re.findall(r'<li class="rec card">.*?</li>\s*</ul>', body, re.S)
    assert recs, "no recommendation cards"
    assert '<ul class="reasons"' in body and "<blockquote class=\"passage\">" in body
    assert "stuck" in body
    assert "A security FAQ for banks" in body
    assert client.get("/deals/unknown-opp").status_code == 404


def test_share_creates_a_tracked_link_shown_once(client, data, baton):
    sign_in(client, "rep")
    response = post_form(client, "/deals/opp-stuck", "/deals/opp-stuck/share",
                         {"asset_id": "pricing", "recommendation_id": ""})
    assert response.status_code == 302
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    link = re.search(r'id="share-url" readonly value="(http://localhost/r/[^"]+)"', body)
    assert link, "share link not shown"
    with baton.session() as session:
        events = session.scalars(select(ContentEvent).where(
            ContentEvent.opportunity_id == "opp-stuck", ContentEvent.event_type == "shared"))
        assert [e.asset_id for e in events] == ["pricing"]
    again = client.get("/deals/opp-stuck").get_data(as_text=True)
    assert 'id="share-url"' not in again  # shown once


def test_helpful_feedback_is_recorded_once(client, data, baton):
    sign_in(client, "rep")
    for _ in range(2):
        response = post_form(client, "/deals/opp-fresh", "/deals/opp-fresh/feedback",
                             {"asset_id": "roi", "kind": "helpful", "recommendation_id": "r1"})
        assert response.status_code == 302
    with baton.session() as session:
        rows = session.scalars(select(ContentEvent).where(
            ContentEvent.opportunity_id == "opp-fresh", ContentEvent.event_type == "helpful"))
        assert [(r.asset_id, r.user) for r in rows] == [("roi", "rep@example.com")]
    bad = post_form(client, "/deals/opp-fresh", "/deals/opp-fresh/feedback",
                    {"asset_id": "roi", "kind": "love"})
    assert bad.status_code == 400


def test_request_content_lands_in_the_queue(client, data, baton):
    sign_in(client, "rep")
    response = post_form(client, "/deals/opp-fresh", "/deals/opp-fresh/request",
                         {"need": "ROI case for retail CFOs", "buying_stage": "consideration",
                          "persona": "cfo", "industry": "retail"})
    assert response.status_code == 302
    with baton.session() as session:
        row = session.scalar(select(ContentRequest).where(
            ContentRequest.opportunity_id == "opp-fresh"))
        assert (row.need, row.persona, row.status, row.requested_by) == (
            "ROI case for retail CFOs", "cfo", "open", "rep@example.com")
    response = post_form(client, "/deals/opp-fresh", "/deals/opp-fresh/request",
                         {"need": "x", "persona": "astronaut"}, follow_redirects=True)
    assert "unknown persona" in response.get_data(as_text=True)
