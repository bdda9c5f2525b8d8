"""A small CRM world for the analytics tests (inserted via the ORM) and a fitted-model stand-in."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from models import Asset, ContentEvent, ContentRequest, Opportunity, StageChange
from recommender.learning.effects import EffectEstimate

T0 = datetime(2026, 1, 5)
DAY = timedelta(days=1)

ASSETS = [
    # id, title, type, stage, personas, industries, expires
    ("blog", "Five freight trends", "blog_post", "awareness", [], [], None),
    ("roi", "=HYPERLINK(\"http://x\")", "roi_calculator", "consideration", ["cfo"], [], None),
    ("case", "Northwind case study", "case_study", "consideration", [], ["logistics"], None),
    ("decoy", "Popular webinar", "webinar", "consideration", [], [], None),
    ("pricing", "Pricing sheet", "pricing_sheet", "decision", [], [], None),
    ("old", "Old datasheet", "datasheet", "decision", [], [], date(2020, 1, 1)),
]


def estimate(asset_id: str, stage: str, effect: float, half: float, support: int,
             segment: str | None = None) -> EffectEstimate:
    return EffectEstimate(asset_id=asset_id, buying_stage=stage, segment=segment, effect=effect,
                          lower=effect - half, upper=effect + half, sd=half / 1.645,
                          support=support, n_visits=200, naive_rate=None,
                          naive_rate_unused=None, win_effect=effect / 2,
                          win_lower=(effect - half) / 2, win_upper=(effect + half) / 2)


class FittedEffects:
    """Stands in for a fitted ``ContentEffectModel``: its ``effects_`` and ``posterior``."""

    version = "effects-test"
    level = 0.9

    def __init__(self, effects: list[EffectEstimate]):
        self.effects_ = effects
        self._mean = {(e.asset_id, e.buying_stage): e.effect for e in effects
                      if e.segment is None}

    def posterior(self, asset_ids, buying_stage, context=None, asset_types=None):
        mean = np.array([self._mean.get((a, buying_stage), 0.0) for a in asset_ids])
        return mean, np.full(len(asset_ids), 0.05)


MODEL_EFFECTS = [
    estimate("roi", "consideration", 0.09, 0.05, 80),
    estimate("decoy", "consideration", 0.00, 0.04, 150),
    estimate("case", "consideration", 0.03, 0.04, 8),
    estimate("pricing", "decision", -0.06, 0.04, 60),
    estimate("pricing", "consideration", -0.10, 0.05, 30),
    estimate("roi", "consideration", 0.2, 0.1, 40, segment="industry=retail"),
]


def add_assets(session) -> None:
    for asset_id, title, kind, stage, personas, industries, expires in ASSETS:
        session.add(Asset(id=asset_id, title=title, type=kind, stage=stage, personas=personas,
                          industries=industries, url=f"https://example.com/{asset_id}",
                          content_hash=asset_id, text=title, expires=expires))
    session.commit()


def add_world(session) -> None:
    """Assets, 6 deals with stage histories and shares, one open content request."""
    add_assets(session)
    deals = [
        # id, status, persona, industry, path of (stage, day), shared (asset, day)
        ("w1", "won", "cfo", "logistics",
         [("Prospecting", 0), ("Needs Analysis", 5), ("Proposal/Price Quote", 20),
          ("Closed Won", 30)], [("decoy", 6), ("roi", 7)]),
        ("w2", "won", "cfo", "retail",
         [("Prospecting", 0), ("Needs Analysis", 3), ("Proposal/Price Quote", 9),
          ("Closed Won", 19)], [("decoy", 4), ("pricing", 10)]),
        ("l1", "lost", "operations", "logistics",
         [("Prospecting", 0), ("Needs Analysis", 10), ("Closed Lost", 30)], [("roi", 12)]),
        ("l2", "lost", "cio", "retail",
         [("Prospecting", 0), ("Needs Analysis", 8), ("Closed Lost", 12)], []),
        ("o1", "open", "cfo", "retail",
         [("Prospecting", 0), ("Needs Analysis", 4)], [("decoy", 5)]),
        ("o2", "open", "security", "healthcare", [("Prospecting", 0)], []),
    ]
    for opp_id, status, persona, industry, path, shared in deals:
        last_stage, last_day = path[-1]
        closed = status != "open"
        current = path[-2][0] if closed else last_stage
        session.add(Opportunity(
            opportunity_id=opp_id, name=f"Deal {opp_id}", account="Acme", industry=industry,
            persona=persona, amount=50000.0, owner="ana", created_at=T0, stage=last_stage,
            buying_stage=None if closed else _buying(current), stage_entered_at=T0
            + last_day * DAY, status=status, closed_at=T0 + last_day * DAY if closed else None))
        session.flush()
        for (before, _), (after, when) in zip(path, path[1:], strict=False):
            session.add(StageChange(opportunity_id=opp_id, from_stage=before, to_stage=after,
                                    changed_at=T0 + when * DAY))
        for asset_id, when in shared:
            session.add(ContentEvent(event_id=f"s-{opp_id}-{asset_id}", opportunity_id=opp_id,
                                     asset_id=asset_id, event_type="shared",
                                     stage=_stage_at(path, when), occurred_at=T0 + when * DAY,
                                     user="ana"))
    session.add(ContentRequest(need="Security FAQ for hospitals", buying_stage="decision",
                               persona="security", industry="healthcare", status="open"))
    session.add(ContentRequest(need="Done already", buying_stage="decision", status="done"))
    session.commit()


def _buying(stage: str) -> str:
    return {"Prospecting": "awareness", "Needs Analysis": "consideration",
            "Proposal/Price Quote": "decision"}[stage]


def _stage_at(path, day: int) -> str:
    return [s for s, d in path if d <= day][-1]


def add_logged_lists(session, n_lists: int = 300, seed: int = 0) -> float:
    """One-item lists over roi / decoy / case at consideration, uniform logging (p = 1/3).

    Reps share ``roi`` after every recommendation and nothing else: the target ranking (roi
    first) is worth 1 share per list, the logging policy 1/3. Returns the logging truth.
    """
    rng = np.random.default_rng(seed)
    opps = [f"x{i}" for i in range(60)]
    for opp_id in opps:
        session.add(Opportunity(opportunity_id=opp_id, stage="Needs Analysis",
                                buying_stage="consideration", status="open", persona="cfo",
                                industry="retail", created_at=T0))
    session.flush()
    for n in range(n_lists):
        opp_id = opps[n % len(opps)]
        asset_id = ["roi", "decoy", "case"][int(rng.integers(3))]
        when = T0 + n * timedelta(hours=3)
        session.add(ContentEvent(event_id=f"r{n}", opportunity_id=opp_id, asset_id=asset_id,
                                 event_type="recommended", stage="Needs Analysis",
                                 occurred_at=when, propensity=1 / 3, recommendation_id=f"L{n}"))
        if asset_id == "roi":
            session.add(ContentEvent(event_id=f"s{n}", opportunity_id=opp_id, asset_id="roi",
                                     event_type="shared", stage="Needs Analysis",
                                     occurred_at=when + timedelta(hours=1)))
    session.commit()
    return 1 / 3
