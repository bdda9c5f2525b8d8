"""Shared helpers for the UI tests: users per role, sign-in with CSRF, a small data set."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from werkzeug.security import generate_password_hash

from models import Asset, ContentEvent, ContentRequest, Opportunity, Passage, StageChange, User
from recommender.domain import utcnow

PASSWORD = "correct-horse-1"
# A cheap hash keeps the tests fast; production users get werkzeug's default (scrypt).
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
EMAILS = {"rep": "rep@example.com", "marketer": "marketer@example.com",
          "admin": "admin@example.com"}

ASSETS = [
    # id, type, stage, stage_source, personas, industries, text
    ("cs-northwind", "case_study", "consideration", "given", ["operations"], ["logistics"],
     "Northwind cut freight costs 18% with route optimization for trucks."),
    ("pricing", "pricing_sheet", "decision", "given", ["cfo"], [],
     "Pricing editions, tiers, discounts and contract terms for the pricing objection."),
    ("security", "security_review", "decision", "auto", ["security"], [],
     "SOC 2 report, encryption at rest, access control and data privacy answers."),
    ("roi", "roi_calculator", "consideration", "given", ["cfo"], ["logistics"],
     "Estimate savings, payback period and return on investment of route optimization."),
    ("blog-trends", "blog_post", "awareness", "auto", [], [],
     "Five trends shaping freight and logistics this year."),
    ("old-datasheet", "datasheet", "decision", "given", [], [],
     "Old product datasheet with pricing discounts and contract terms."),
]


def csrf_from(html: str) -> str:
    """Return the first CSRF token in a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client, role: str) -> None:
    """Sign the test client in as the user of ``role``."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": EMAILS[role], "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def post_form(client, page_url: str, action: str, data: dict, **kwargs):
    """POST ``data`` to ``action`` with the CSRF token read from ``page_url``."""
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(action, data={**data, "csrf_token": token}, **kwargs)


def add_users(baton) -> None:
    with baton.session() as session:
        for role, email in EMAILS.items():
            session.add(User(email=email, role=role, password_hash=PASSWORD_HASH))


def add_library(baton) -> None:
    embedder = baton.embedder
    today = utcnow().date()
    with baton.session() as session:
        for asset_id, kind, stage, source, personas, industries, text in ASSETS:
            vector = embedder.encode([text])[0]
            asset = Asset(
                id=asset_id, title=asset_id.replace("-", " ").title(), type=kind, stage=stage,
                stage_source=source, stage_confidence=0.41 if source == "auto" else None,
                personas=personas, industries=industries, products=[],
                url=f"https://example.com/{asset_id}", content_hash=asset_id, text=text,
                word_count=len(text.split()), owner="marketer@example.com",
                review_by=today - timedelta(days=3) if asset_id == "roi" else None,
                expires=date(2020, 1, 1) if asset_id == "old-datasheet" else None,
                embedding=vector.tobytes(), embedding_model=embedder.name,
                embedding_dim=embedder.dimension)
            asset.passages = [Passage(position=0, text=text, embedding=vector.tobytes())]
            session.add(asset)


def add_deals(baton) -> None:
    now = utcnow()
    with baton.session() as session:
        deals = [("opp-stuck", "Negotiation/Review", "decision", now - timedelta(days=200)),
                 ("opp-fresh", "Needs Analysis", "consideration", now - timedelta(days=1)),
                 ("opp-early", "Prospecting", "awareness", now - timedelta(days=4))]
        for opp_id, stage, buying, entered in deals:
            session.add(Opportunity(
                opportunity_id=opp_id, name=f"Deal {opp_id}", account="Northwind",
                industry="logistics", persona="cfo", amount=50000.0, owner="rep@example.com",
                stage=stage, buying_stage=buying, status="open", notes="pricing objection",
                created_at=entered - timedelta(days=10), stage_entered_at=entered))
        for i in range(6):
            opp_id = f"opp-won-{i}"
            start = now - timedelta(days=120 + i)
            session.add(Opportunity(
                opportunity_id=opp_id, name=f"Won {i}", account="Acme", industry="logistics",
                persona="cfo", amount=1000.0 * i, owner="rep@example.com", stage="Closed Won",
                status="won", created_at=start, stage_entered_at=start + timedelta(days=30),
                closed_at=start + timedelta(days=30)))
            session.flush()
            for j, (a, b) in enumerate([("Prospecting", "Needs Analysis"),
                                        ("Needs Analysis", "Negotiation/Review"),
                                        ("Negotiation/Review", "Closed Won")]):
                session.add(StageChange(opportunity_id=opp_id, from_stage=a, to_stage=b,
                                        changed_at=start + timedelta(days=10 * (j + 1))))
        session.flush()
        session.add(ContentEvent(event_id="e-shared-1", opportunity_id="opp-won-1",
                                 asset_id="roi", event_type="shared", stage="Needs Analysis",
                                 buying_stage="consideration",
                                 occurred_at=datetime(2026, 3, 1, 10), user="rep@example.com"))
        session.add(ContentEvent(event_id="e-helpful-1", opportunity_id="opp-won-1",
                                 asset_id="roi", event_type="helpful", stage="Needs Analysis",
                                 buying_stage="consideration",
                                 occurred_at=datetime(2026, 3, 2, 10), user="rep@example.com"))
        session.add(ContentRequest(opportunity_id="opp-stuck", requested_by="rep@example.com",
                                   need="A security FAQ for banks", buying_stage="decision",
                                   status="open"))

