"""Analytics pages: influence forest plot and table, funnel, gaps heatmap, feedback queue,
quarterly review download."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import ContentRequest
from tests.support.ui import post_form, sign_in


def test_influence_page_has_a_forest_plot_and_table_with_verdicts(client, data):
    sign_in(client, "marketer")
    response = client.get("/analytics")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<svg id="forest-plot"' in body
    assert "Naive win rate" in body
    rows = re.findall(r'<span class="verdict verdict-[^"]*">([^<]+)</span>', body)
    assert rows, "no verdict words"
    assert set(rows) <= {"helps", "hurts", "no evidence", "not enough data"}
    decision = client.get("/analytics?stage=decision").get_data(as_text=True)
    stages = re.findall(r"</a></td><td>(\w+)</td>", decision)
    assert stages and set(stages) == {"decision"}


def test_influence_page_empty_state(client, users):
    sign_in(client, "marketer")
    body = client.get("/analytics").get_data(as_text=True)
    assert "No influence figures yet" in body and "baton train" in body


def test_funnel_counts_deals_entering_each_stage(client, data):
    sign_in(client, "marketer")
    body = client.get("/analytics/funnel").get_data(as_text=True)
    row = re.search(r"<tr><td>Negotiation/Review</td>.*?</tr>", body, re.S).group(0)
    entered, advanced, lost, still_open = re.findall(r'<td class="num">(\d+)</td>', row)[:4]
    assert (entered, advanced, lost, still_open) == ("7", "6", "0", "1")  # 6 won + 1 stuck


def test_gaps_heatmap_by_stage_and_persona_filtered_by_industry(client, data):
    sign_in(client, "marketer")
    body = client.get("/analytics/gaps").get_data(as_text=True)
    assert '<table class="heatmap" id="gaps-heatmap">' in body
    assert body.count('<th scope="row">') == 3  # awareness, consideration, decision
    assert "heat-0" in body  # some stage × persona has no asset at all
    retail = client.get("/analytics/gaps?industry=retail").get_data(as_text=True)
    assert retail != body and "for retail" in retail


def test_feedback_and_request_queue_with_status_changes(client, data, baton):
    sign_in(client, "marketer")
    body = client.get("/analytics/feedback").get_data(as_text=True)
    assert "A security FAQ for banks" in body
    assert re.search(r'Roi</a></td><td class="num">1</td>', body)
    with baton.session() as session:
        request_id = session.scalar(select(ContentRequest.id))
    response = post_form(client, "/analytics/feedback", f"/analytics/requests/{request_id}",
                         {"status": "planned"})
    assert response.status_code == 302
    with baton.session() as session:
        assert session.get(ContentRequest, request_id).status == "planned"
    assert "A security FAQ" in client.get("/analytics/feedback?status=planned").get_data(
        as_text=True)
    assert "No content requests with status open" in client.get(
        "/analytics/feedback?status=open").get_data(as_text=True)
    bad = post_form(client, "/analytics/feedback", f"/analytics/requests/{request_id}",
                    {"status": "someday"})
    assert bad.status_code == 422


def test_quarterly_review_downloads_as_markdown_and_csv(client, data):
    sign_in(client, "marketer")
    response = client.get("/analytics/quarterly-review.md")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith("baton-quarterly-review.md")
    assert response.get_data(as_text=True).lstrip().startswith("#")
    response = client.get("/analytics/quarterly-review.csv")
    assert response.mimetype == "text/csv" and "," in response.get_data(as_text=True)
    assert client.get("/analytics/quarterly-review.pdf").status_code == 404


def test_recent_feedback_paginates_separately_from_the_queue(client, data, baton):
    from datetime import datetime

    from models import ContentEvent

    with baton.session() as session:
        for i in range(12):
            session.add(ContentEvent(event_id=f"fb-{i}", opportunity_id="opp-fresh",
                                     asset_id="pricing", event_type="not_helpful",
                                     occurred_at=datetime(2026, 4, 1 + i), user=f"r{i}"))
    sign_in(client, "marketer")
    first = client.get("/analytics/feedback").get_data(as_text=True)
    assert "Page 1 of 2 (13 in all)" in first and "?rpage=2" in first
    second = client.get("/analytics/feedback?rpage=2").get_data(as_text=True)
    latest = re.findall(r"(r\d+|rep@example\.com) marked", second)
    assert len(latest) == 3  # 13 feedback events, 10 per page
    assert "A security FAQ for banks" in second  # the queue is still on its first page
