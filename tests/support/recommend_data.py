"""Small library and CRM data for the recommendation, sharing and event tests (inserted via ORM)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from models import Asset, ContentEvent, Opportunity, Passage, StageChange

ASSETS = [
    # id, type, stage, personas, industries, products, text
    ("cs-northwind", "case_study", "consideration", ["operations"], ["logistics"],
     ["route-optimizer"], "Northwind cut freight costs 18% with route optimization for trucks."),
    ("cs-acme", "case_study", "consideration", ["cfo"], ["retail"], [],
     "Acme retail stores improved last mile delivery with our routing."),
    ("cs-globex", "case_study", "consideration", ["operations"], ["logistics"], [],
     "Globex logistics reduced late deliveries using dynamic routes."),
    ("pricing", "pricing_sheet", "decision", ["procurement", "cfo"], [], [],
     "Pricing editions, tiers, discounts and contract terms for the pricing objection."),
    ("security", "security_review", "decision", ["security"], [], [],
     "SOC 2 report, encryption at rest, access control and data privacy answers."),
    ("roi", "roi_calculator", "consideration", ["cfo"], [], ["route-optimizer"],
     "Estimate savings, payback period and return on investment of route optimization."),
    ("blog-trends", "blog_post", "awareness", [], [], [],
     "Five trends shaping freight and logistics this year."),
    ("impl-plan", "implementation_plan", "decision", ["operations"], [], [],
     "Rollout plan with phases, timeline and milestones for the implementation."),
    ("old-datasheet", "datasheet", "decision", [], [], [],
     "Old product datasheet with pricing discounts and contract terms."),
]


def add_assets(session, embedder, expired=("old-datasheet",), archived=()) -> None:
    """Insert the assets above with hashing-embedder vectors and one passage each."""
    for asset_id, kind, stage, personas, industries, products, text in ASSETS:
        vector = embedder.encode([text])[0]
        asset = Asset(
            id=asset_id, title=asset_id.replace("-", " ").title(), type=kind, stage=stage,
            personas=personas, industries=industries, products=products,
            url=f"https://example.com/{asset_id}", content_hash=asset_id, text=text,
            status="archived" if asset_id in archived else "active",
            expires=date(2020, 1, 1) if asset_id in expired else None,
            embedding=vector.tobytes(), embedding_model=embedder.name,
            embedding_dim=embedder.dimension,
        )
        asset.passages = [Passage(position=0, text=text, embedding=vector.tobytes())]
        session.add(asset)
    session.commit()


def add_opportunity(session, opportunity_id="opp-1", stage="Proposal/Price Quote",
                    buying_stage="decision", status="open", notes="", industry="logistics",
                    persona="cfo", amount=80000.0, products=None, owner="ana") -> Opportunity:
    """Insert one opportunity."""
    opp = Opportunity(opportunity_id=opportunity_id, name=f"Deal {opportunity_id}",
                      account="Northwind", industry=industry, persona=persona, amount=amount,
                      owner=owner, stage=stage, buying_stage=buying_stage, status=status,
                      notes=notes, products=products or [],
                      created_at=datetime(2026, 1, 1), stage_entered_at=datetime(2026, 2, 1))
    session.add(opp)
    session.commit()
    return opp


def add_stage_change(session, opportunity_id, from_stage, to_stage, when) -> None:
    session.add(StageChange(opportunity_id=opportunity_id, from_stage=from_stage,
                            to_stage=to_stage, changed_at=when))
    session.commit()


def add_shared(session, opportunity_id, asset_id, when=datetime(2026, 10, 3, 9, 30)) -> None:
    session.add(ContentEvent(event_id=f"shared-{opportunity_id}-{asset_id}",
                             opportunity_id=opportunity_id, asset_id=asset_id,
                             event_type="shared", occurred_at=when, stage="",
                             user="ana"))
    session.commit()


DAY = timedelta(days=1)
