"""Off-policy evaluation of a ranking from the logged ``recommended`` events.

This module reads the database into plain rows; the lists, rewards and target policy are built
by ``recommender.learning.logged_lists`` (where the reward definitions are documented) and the
estimators, intervals and diagnostics are in ``recommender.learning.ope``. On simulated worlds
the item-wise estimators land within about 2% of the truth for the ``engaged`` reward and
within about 10% for ``advanced`` (see bench/README.md).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ContentEvent, Opportunity, StageChange
from recommender.domain import vocabulary_name
from recommender.errors import NotFittedError, ValidationError
from recommender.learning import ope
from recommender.learning.effects import ContentEffectModel
from recommender.learning.logged_lists import (
    REWARDS,
    TOUCH_EVENTS,
    GreedyByEffect,
    ShownItem,
    TargetPolicy,
    build_logged_lists,
    forward_moves,
    item_rewards,
)
from recommender.learning.stage_names import StageMapper
from web.runtime import Baton


@dataclass
class OPEReport:
    """The off-policy estimate of a ranking, with what it was computed on."""

    result: ope.OPEResult
    reward: str
    window_days: float
    target: str
    model_version: str

    def to_dict(self) -> dict:
        data = self.result.to_dict()
        data.update({"reward": self.reward, "window_days": self.window_days,
                     "target_policy": self.target, "model_version": self.model_version})
        return data


@dataclass(frozen=True)
class _Deal:
    pipeline: str | None
    persona: str | None
    industry: str | None


def _deals(session: Session) -> dict[str, _Deal]:
    return {o: _Deal(pipe or None, persona, industry) for o, pipe, persona, industry in
            session.execute(select(Opportunity.opportunity_id, Opportunity.pipeline,
                                   Opportunity.persona, Opportunity.industry))}


def _shown_items(baton: Baton, session: Session, deals: dict[str, _Deal]) -> list[ShownItem]:
    """Read the ``recommended`` events with a propensity whose buying stage is known."""
    rows = session.execute(
        select(ContentEvent.opportunity_id, ContentEvent.asset_id, ContentEvent.stage,
               ContentEvent.buying_stage, ContentEvent.occurred_at, ContentEvent.propensity,
               ContentEvent.recommendation_id)
        .where(ContentEvent.event_type == "recommended", ContentEvent.propensity.is_not(None))
        .order_by(ContentEvent.opportunity_id, ContentEvent.occurred_at, ContentEvent.id)).all()
    if not rows:
        raise ValidationError("no logged recommended events with propensities to evaluate; "
                              "serve recommendations (or import content_events with a "
                              "propensity column) first")
    mapper = StageMapper(baton.stages)
    shown = []
    for opp_id, asset_id, stage, buying, when, propensity, rid in rows:
        deal = deals.get(opp_id)
        buying = buying or mapper(stage, deal.pipeline if deal else None)
        if buying is not None and propensity is not None:
            shown.append(ShownItem(opp_id, asset_id, buying, when, float(propensity),
                                   rid or (opp_id, when, buying)))
    if not shown:
        raise ValidationError("no logged recommended event has a known buying stage")
    return shown


def _touches(session: Session, reward: str) -> dict[tuple[str, str], list[datetime]]:
    """Read when each deal's rep acted on each asset (the reward's events), in time order."""
    touches: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for opp_id, asset_id, when in session.execute(
            select(ContentEvent.opportunity_id, ContentEvent.asset_id, ContentEvent.occurred_at)
            .where(ContentEvent.event_type.in_(TOUCH_EVENTS[reward]))
            .order_by(ContentEvent.occurred_at)):
        touches[(opp_id, asset_id)].append(when)
    return touches


def _forward(baton: Baton, session: Session,
             deals: dict[str, _Deal]) -> dict[str, list[tuple[datetime, int]]]:
    """Read every deal's stage moves ranked by buying stage order."""
    changes = session.execute(
        select(StageChange.opportunity_id, StageChange.to_stage, StageChange.changed_at)
        .order_by(StageChange.changed_at))
    pipelines = {o: deal.pipeline for o, deal in deals.items()}
    return forward_moves(changes, pipelines, baton.stages)


def _contexts(baton: Baton, shown: list[ShownItem],
              deals: dict[str, _Deal]) -> dict[str, dict[str, str]]:
    """Key each listed deal's persona and industry the way serving does."""
    stages = baton.stages
    contexts = {}
    for opp_id in {item.opportunity_id for item in shown}:
        deal = deals.get(opp_id, _Deal(None, "", ""))
        contexts[opp_id] = {"persona": vocabulary_name(deal.persona, stages.personas),
                            "industry": vocabulary_name(deal.industry, stages.industries)}
    return contexts


def _target_policy(model: ContentEffectModel | None,
                   target: TargetPolicy | None) -> tuple[TargetPolicy, str, str]:
    """Return the policy to evaluate, its description and the model version behind it."""
    if target is not None:
        return target, str(target.__doc__ or "custom target policy"), ""
    if model is None:
        raise NotFittedError("model not trained — run baton train before evaluate-policy")
    return GreedyByEffect(model), GreedyByEffect.description, str(model.version)


def evaluate_logged(baton: Baton, session: Session, model: ContentEffectModel | None = None,
                    target: TargetPolicy | None = None, reward: str = "engaged",
                    window_days: float = 14.0, clip: float | None = 100.0,
                    interval: str = "bootstrap", n_boot: int = 300, level: float = 0.9,
                    seed: int = 0) -> OPEReport:
    """Estimate a ranking's value (reward per list) from the logged lists.

    The ranking is ``target`` when given (a ``TargetPolicy``, no model needed), else greedy by
    ``model``'s posterior mean effect.
    """
    if reward not in REWARDS:
        raise ValidationError(f"unknown reward {reward!r}; expected one of {', '.join(REWARDS)}")
    if window_days <= 0:
        raise ValidationError(f"window_days={window_days} must be positive")
    policy, description, version = _target_policy(model, target)
    deals = _deals(session)
    shown = _shown_items(baton, session, deals)
    forward = _forward(baton, session, deals) if reward == "advanced" else {}
    rewards = item_rewards(shown, _touches(session, reward), forward,
                           baton.stages.buying_stage_names, reward, timedelta(days=window_days))
    logged = build_logged_lists(shown, rewards, policy, _contexts(baton, shown, deals))
    result = ope.evaluate_policy(logged, clip=clip, estimators=ope.ESTIMATORS, interval=interval,
                                 n_boot=n_boot, level=level, seed=seed)
    return OPEReport(result, reward, float(window_days), description, version)
