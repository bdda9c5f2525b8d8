"""Stored XSS: hostile text saved through every door is inert in the UI, the sidebar and the
exports; CSV exports neutralise spreadsheet formula injection.

Doors: asset upload (front matter title) and PATCH, opportunity upsert (name, account, notes,
owner, persona, industry), a content request from the deal page, the CRM user on a sidebar
token (recorded on feedback events). Pages are parsed as HTML: no event-handler attribute,
no ``javascript:`` link and no script carrying the payload may appear.
"""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

from tests.support.api import bearer, make_keys, seed
from tests.support.ui import add_users, post_form, sign_in
from web.auth import mint_sidebar_token

MARK = "alert(7331)"
SCRIPT = f"<script>{MARK}</script>"
ATTR = f'" onmouseover="{MARK}" x="'
IMG = f"<img src=x onerror={MARK}>"
JS_URL = f"javascript:{MARK}"
FORMULA = '=HYPERLINK("http://evil.example","click")'
HOSTILE = f"{FORMULA} {SCRIPT}{ATTR}{IMG}"
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in URL_ATTRS and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "img" and any(n == "onerror" for n, _v in attrs):
            self.problems.append("<img onerror>")
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and MARK in data:
            self.problems.append(f"script with payload: {data[:80]!r}")


def audit_html(html: str, where: str) -> None:
    parser = _Audit()
    parser.feed(html)
    assert not parser.problems, (where, parser.problems)


def test_hostile_text_is_inert_everywhere(app, baton, embedder):
    seed(baton, embedder)
    add_users(baton)
    keys = make_keys(baton)
    client = app.test_client()
    admin = bearer(keys["admin"])

    # --- write the payload through every door ---------------------------------------------
    upload = (f"---\ntitle: '{HOSTILE.replace(chr(39), chr(39) * 2)}'\nstage: awareness\n"
              f"type: blog_post\n---\nFreight routing savings explained for operations.\n")
    created = client.post("/api/v1/assets", headers=bearer(keys["marketer"]),
                          data={"file": (io.BytesIO(upload.encode()), "hostile.md")},
                          content_type="multipart/form-data")
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["title"] == HOSTILE  # stored as given, escaped on output
    patched = client.patch("/api/v1/assets/pricing", headers=admin, json={"title": HOSTILE})
    assert patched.status_code == 200
    bad_url = client.patch("/api/v1/assets/pricing", headers=admin, json={"url": JS_URL})
    assert bad_url.status_code == 422, "a javascript: URL must be refused at the door"
    opp = client.put("/api/v1/opportunities/opp-x", headers=admin, json={
        "stage": "Prospecting", "name": HOSTILE, "account": HOSTILE, "notes": HOSTILE,
        "owner": "rep@example.com", "persona": "cfo", "industry": "logistics"})
    assert opp.status_code in (200, 201), opp.get_json()

    rep = app.test_client()
    sign_in(rep, "rep")
    asked = post_form(rep, "/deals/opp-x", "/deals/opp-x/request",
                      {"need": HOSTILE, "buying_stage": "awareness"})
    assert asked.status_code == 302

    with app.test_request_context():
        token, _ = mint_sidebar_token("opp-x", user=HOSTILE)
    recs = client.get("/api/v1/opportunities/opp-x/recommendations?k=5", headers=admin)
    assert recs.status_code == 200
    items = recs.get_json()["items"] if "items" in recs.get_json() else recs.get_json()[
        "recommendations"]
    assert items, "the hostile deal must still get recommendations"
    fed = client.post("/api/v1/events", headers=bearer(token), json={
        "event_id": "xss-1", "opportunity_id": "opp-x", "asset_id": items[0]["asset_id"],
        "event_type": "not_helpful"})
    assert fed.status_code in (200, 201), fed.get_json()

    # --- read it back everywhere --------------------------------------------------------
    pages = ["/deals", "/deals/opp-x", "/library", "/library/assets/pricing",
             "/library/assets/hostile", "/library/review", "/analytics", "/analytics/feedback",
             "/analytics/gaps", "/analytics/funnel", "/settings"]
    viewer = app.test_client()
    sign_in(viewer, "admin")
    seen = 0
    for page in pages + ["/library?q=freight", "/deals?q=opp"]:
        response = viewer.get(page)
        assert response.status_code == 200, (page, response.status_code)
        html = response.get_data(as_text=True)
        audit_html(html, page)
        seen += SCRIPT not in html and ("&lt;script&gt;" in html)
    rep_page = rep.get("/deals/opp-x").get_data(as_text=True)
    audit_html(rep_page, "rep /deals/opp-x")
    assert "&lt;script&gt;" in rep_page  # the payload is shown, as text
    sidebar = client.get(f"/sidebar/opp-x?token={token}")
    assert sidebar.status_code == 200
    audit_html(sidebar.get_data(as_text=True), "sidebar")
    assert seen >= 3

    # --- exports -----------------------------------------------------------------------
    for url in ("/analytics/quarterly-review.csv", "/analytics/quarterly-review.md"):
        response = viewer.get(url)
        assert response.status_code == 200, url
        assert "html" not in response.headers["Content-Type"], url
        if url.endswith(".csv"):
            assert_csv_safe(response.get_data(as_text=True), url)
    for fmt in ("csv", "json"):
        response = client.get(f"/api/v1/analytics/influence?format={fmt}", headers=admin)
        assert response.status_code in (200, 503), response.get_data(as_text=True)[:300]
        assert "html" not in response.headers["Content-Type"]
        if fmt == "csv" and response.status_code == 200:
            assert_csv_safe(response.get_data(as_text=True), "influence.csv")


def assert_csv_safe(text: str, where: str) -> None:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows, where
    for row in rows:
        for cell in row:
            if cell and cell[0] in "=+@\t\r":
                raise AssertionError(f"{where}: formula cell {cell[:60]!r}")
            if cell.startswith("-") and not _number(cell):
                raise AssertionError(f"{where}: formula cell {cell[:60]!r}")


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_csv_safe_neutralises_every_formula_prefix():
    from recommender.learning.review import write_csv

    cells = ["=1+2", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", FORMULA, "plain", -3, 2.5]
    text = write_csv([cells], ["c"] * len(cells))
    assert_csv_safe(text, "write_csv")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1][-2:] == ["-3", "2.5"]  # numbers stay numbers
