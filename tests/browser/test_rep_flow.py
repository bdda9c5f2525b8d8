"""A rep signs in, opens a stuck deal, shares a recommendation and rates one (real Chromium)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from models import ContentEvent
from tests.support.browser import axe_violations, sign_in

pytestmark = pytest.mark.browser


def _count(live_server, opportunity_id: str, event_type: str) -> int:
    with live_server.baton.session() as session:
        return session.scalar(select(func.count()).select_from(ContentEvent).where(
            ContentEvent.opportunity_id == opportunity_id,
            ContentEvent.event_type == event_type))


def test_rep_shares_a_recommendation_for_a_stuck_deal_and_rates_one(page, live_server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"],
                                   origin=live_server.url)
    sign_in(page, "rep")
    assert page.url.endswith("/deals")
    stuck_row = page.locator("tr.stuck")
    assert stuck_row.count() == 1
    stuck_row.get_by_role("link").first.click()
    page.wait_for_url("**/deals/opp-stuck")
    assert page.get_by_text("stuck:", exact=False).first.is_visible()

    cards = page.locator("li.rec")
    assert cards.count() >= 1
    first = cards.first
    assert first.locator("ul.reasons li").count() >= 1
    assert first.locator("blockquote.passage").count() == 1
    title = first.locator("h3").inner_text()

    shared_before = _count(live_server, "opp-stuck", "shared")
    first.get_by_role("button", name=f"Share {title}").click()
    page.wait_for_url("**/deals/opp-stuck#shared")
    link = page.locator("#share-url").input_value()
    assert re.fullmatch(re.escape(live_server.url) + r"/r/[A-Za-z0-9_-]{20,}", link)
    assert _count(live_server, "opp-stuck", "shared") == shared_before + 1
    page.get_by_role("button", name="Copy link").click()
    page.locator(".copied").get_by_text("Copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == link

    viewed_before = _count(live_server, "opp-stuck", "viewed")
    # The buyer has no Baton session; the link sends them on to the asset itself.
    buyer = page.context.browser.new_context()
    response = buyer.request.get(link, max_redirects=0)
    assert response.status == 302
    assert not response.headers["location"].startswith(live_server.url)
    buyer.close()
    assert _count(live_server, "opp-stuck", "viewed") == viewed_before + 1

    helpful_before = _count(live_server, "opp-stuck", "helpful")
    page.locator("li.rec").first.get_by_role("button", name=re.compile("^Helpful")).click()
    page.get_by_text("Thanks: marked helpful.").wait_for()
    assert _count(live_server, "opp-stuck", "helpful") == helpful_before + 1
    assert axe_violations(page) == []


def test_deal_desk_sorts_by_days_in_stage_with_the_keyboard(page, live_server):
    sign_in(page, "rep")
    header = page.get_by_role("link", name=re.compile("^Days in stage"))
    header.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"sort=days"))
    page.get_by_role("link", name=re.compile("^Days in stage")).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"desc=1"))
    first_deal = page.locator("table.deals tbody tr").first
    assert "opp-stuck" in first_deal.get_by_role("link").get_attribute("href")
    assert axe_violations(page) == []


def test_dates_are_shown_in_the_viewers_locale(page, live_server):
    sign_in(page, "rep")
    page.goto("/library/assets/roi")
    stamp = page.locator('time[datetime="2026-03-01T10:00:00Z"]').first
    # The server writes UTC; baton.js rewrites it for en-GB in Europe/Paris (UTC+1 in March).
    assert stamp.get_attribute("title") == "2026-03-01T10:00:00Z"
    text = stamp.inner_text()
    assert "UTC" not in text and "11:00" in text and "2026" in text
