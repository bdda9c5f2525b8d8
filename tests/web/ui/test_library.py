"""Library pages: search, facets, cards, detail, edit, confirm/correct a tag, upload, review."""

from __future__ import annotations

import io
import re

from models import Asset
from tests.support.ui import post_form, sign_in


def _cards(html: str) -> list[str]:
    return re.findall(r'href="/library/assets/([^"]+)">', html)


def test_library_lists_active_assets_and_paginates(client, data):
    sign_in(client, "rep")
    body = client.get("/library?per_page=2").get_data(as_text=True)
    assert len(_cards(body)) == 2
    assert "Page 1 of 3" in body
    second = client.get("/library?per_page=2&page=2").get_data(as_text=True)
    assert set(_cards(second)).isdisjoint(_cards(body))


def test_facets_filter_the_cards(client, data):
    sign_in(client, "rep")
    cards = _cards(client.get("/library?stage=decision").get_data(as_text=True))
    assert set(cards) == {"pricing", "security", "old-datasheet"}
    cards = _cards(client.get("/library?persona=cfo").get_data(as_text=True))
    assert set(cards) == {"pricing", "roi"}
    cards = _cards(client.get("/library?needs_review=1").get_data(as_text=True))
    assert set(cards) == {"security", "blog-trends"}
    cards = _cards(client.get("/library?industry=logistics&type=case_study")
                   .get_data(as_text=True))
    assert cards == ["cs-northwind"]


def test_semantic_search_ranks_by_meaning_and_quotes_a_passage(client, data):
    sign_in(client, "rep")
    body = client.get("/library?q=SOC+2+encryption+access+control").get_data(as_text=True)
    cards = _cards(body)
    assert cards and cards[0] == "security"
    assert "encryption at rest" in body


def test_empty_library_tells_a_newcomer_what_to_do(client, users):
    sign_in(client, "marketer")
    body = client.get("/library").get_data(as_text=True)
    assert "The library is empty" in body and "baton ingest" in body
    body = client.get("/library?stage=decision").get_data(as_text=True)
    assert "Nothing matches these filters" in body


def test_asset_detail_shows_metadata_passages_and_history(client, data):
    sign_in(client, "rep")
    response = client.get("/library/assets/roi")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Estimate savings, payback period" in body
    assert 'datetime="2026-03-01T10:00:00Z"' in body  # the shared event, in a <time> tag
    assert "opp-won-1" in body and "helpful" in body
    assert "Edit metadata" not in body  # reps do not edit
    assert client.get("/library/assets/nope").status_code == 404


def test_marketer_confirms_and_corrects_an_auto_tag_in_one_click(client, data, baton):
    sign_in(client, "marketer")
    page = "/library/assets/security"
    assert "auto-tagged, needs review" in client.get(page).get_data(as_text=True)
    response = post_form(client, page, page + "/stage", {"stage": ""})
    assert response.status_code == 302
    with baton.session() as session:
        asset = session.get(Asset, "security")
        assert (asset.stage, asset.stage_source) == ("decision", "confirmed")
    post_form(client, "/library/assets/blog-trends", "/library/assets/blog-trends/stage",
              {"stage": "consideration"})
    with baton.session() as session:
        asset = session.get(Asset, "blog-trends")
        assert (asset.stage, asset.stage_source) == ("consideration", "confirmed")


def test_edit_metadata_saves_and_reports_bad_input(client, data, baton):
    sign_in(client, "marketer")
    page = "/library/assets/pricing/edit"
    form = {"title": "Pricing 2027", "type": "pricing_sheet", "stage": "decision",
            "url": "https://example.com/p", "owner": "ana@example.com",
            "personas": ["cfo", "cio"], "expires": "2027-06-30", "review_by": "2027-01-15"}
    response = post_form(client, page, page, form)
    assert response.status_code == 302
    with baton.session() as session:
        asset = session.get(Asset, "pricing")
        assert asset.title == "Pricing 2027" and asset.personas == ["cfo", "cio"]
        assert asset.expires.isoformat() == "2027-06-30" and asset.owner == "ana@example.com"
    response = post_form(client, page, page, {**form, "expires": "next year"})
    assert response.status_code == 422
    assert "expires" in response.get_data(as_text=True)


def test_archive_and_restore(client, data, baton):
    sign_in(client, "marketer")
    post_form(client, "/library/assets/roi", "/library/assets/roi/archive", {})
    with baton.session() as session:
        assert session.get(Asset, "roi").status == "archived"
    assert "roi" not in _cards(client.get("/library").get_data(as_text=True))
    assert "roi" in _cards(client.get("/library?status=archived").get_data(as_text=True))
    post_form(client, "/library/assets/roi", "/library/assets/roi/restore", {})
    with baton.session() as session:
        assert session.get(Asset, "roi").status == "active"


def test_upload_ingests_the_file_and_opens_its_page(client, data, baton):
    sign_in(client, "marketer")
    text = b"# Security whitepaper\n\nEncryption, SOC 2 and access control for the buyer.\n"
    response = post_form(client, "/library/upload", "/library/upload",
                         {"file": (io.BytesIO(text), "sec-paper.md"), "title": "Sec paper"},
                         content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith("/library/assets/")
    body = client.get(location).get_data(as_text=True)
    assert "Sec paper" in body and "Uploaded" in body
    response = post_form(client, "/library/upload", "/library/upload", {})
    assert response.status_code == 422 and "choose a file" in response.get_data(as_text=True)


def test_review_lists_due_expired_and_auto(client, data):
    sign_in(client, "marketer")
    assert _cards(client.get("/library/review?list=due").get_data(as_text=True)) == ["roi"]
    assert _cards(client.get("/library/review?list=expired").get_data(as_text=True)) == [
        "old-datasheet"]
    assert set(_cards(client.get("/library/review?list=auto").get_data(as_text=True))) == {
        "security", "blog-trends"}
    assert client.get("/library/review?list=bogus").status_code == 422


def test_review_lists_have_empty_states(client, users):
    sign_in(client, "marketer")
    assert "Nothing is due for review" in client.get("/library/review").get_data(as_text=True)
