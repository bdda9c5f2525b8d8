"""Off-policy evaluation of the current ranking from the logged ``recommended`` events.

**Logged lists.** ``recommended`` events with a propensity, grouped by ``recommendation_id``
(or, for imported CSV rows without one, by opportunity and time). Each shown asset's
propensity is its marginal probability of being in the list under the logging policy.

**Reward** (per shown asset, documented choice):

- ``engaged`` (default): the rep shared the asset, or marked it helpful, on that deal within
  ``window_days`` after the recommendation. Item-level, so item-wise importance weighting is
  valid.
- ``advanced``: the asset was shared within the window *and* the deal then left the list's
  buying stage forward (a later buying stage, or won) within the window. Closer to the outcome
  the ranking is meant to move, noisier, and credits every shared asset of the list: whether a
  deal advances depends on the other assets too, which bends the item-independence assumption
  of the item-wise estimators (on simulated worlds they land within about 10% of the truth for
  this reward, within about 2% for ``engaged``; see bench/README.md).

**Target policy** ("the current ranking"): for each logged list, the same number of assets,
chosen greedily by the trained model's posterior mean effect (segment-aware: persona and
industry of the deal) among the assets the logging policy showed at that buying stage (so every
candidate had a positive logging probability). Estimators, intervals and diagnostics are in
``recommender.learning.ope``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ContentEvent, Opportunity, StageChange
from recommender.domain import vocabulary_name
from recommender.errors import NotFittedError, UnknownStageError, ValidationError
from recommender.learning.ope import ESTIMATORS, LoggedLists, OPEResult
from recommender.learning.ope import evaluate_policy as _evaluate
from web.runtime import Baton

REWARDS = ("engaged", "advanced")


@dataclass
class OPEReport:
    """The off-policy estimate of the current ranking, with what it was computed on."""

    result: OPEResult
    reward: str
    window_days: float
    target: str
    model_version: str

    def to_dict(self) -> dict:
        data = self.result.to_dict()
        data.update({"reward": self.reward, "window_days": self.window_days,
                     "target_policy": self.target, "model_version": self.model_version})
        return data


def evaluate_policy(baton: Baton, session: Session, reward: str = "engaged",
                    window_days: float = 14.0, clip: float | None = 100.0,
                    interval: str = "bootstrap", n_boot: int = 300, level: float = 0.9,
                    seed: int = 0, model=None, target=None) -> OPEReport:
    """Estimate the current ranking's value (reward per list) from the logged lists.

    ``target``, when given, replaces the current ranking: a callable ``(buying_stage,
    candidates, k, context) -> {asset_id: inclusion probability}`` (no trained model needed).
    """
    from web.services.learning import analytics  # the one place that finds the trained model
    from web.services.learning.analytics import _StageMapper

    if reward not in REWARDS:
        raise ValidationError(f"unknown reward {reward!r}; expected one of {', '.join(REWARDS)}")
    if window_days <= 0:
        raise ValidationError(f"window_days={window_days} must be positive")
    model = model if model is not None or target is not None else analytics.current_model(baton)
    if model is None and target is None:
        raise NotFittedError("model not trained — run baton train before evaluate-policy")
    mapper = _StageMapper(baton)
    opps = {o: (pipe, persona, industry, status, closed) for o, pipe, persona, industry, status,
            closed in session.execute(select(
                Opportunity.opportunity_id, Opportunity.pipeline, Opportunity.persona,
                Opportunity.industry, Opportunity.status, Opportunity.closed_at))}

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
    lists: dict = {}
    items = []  # (list number, opp, asset, stage, time, propensity)
    for opp_id, asset_id, stage, buying, when, propensity, rid in rows:
        pipe = opps.get(opp_id, ("",))[0] or None
        buying = buying or mapper(stage, pipe)
        if buying is None:
            continue
        key = rid or (opp_id, when, buying)
        number = lists.setdefault(key, len(lists))
        items.append((number, opp_id, asset_id, buying, when, float(propensity)))
    if not items:
        raise ValidationError("no logged recommended event has a known buying stage")

    window = timedelta(days=window_days)
    engaged_types = ("shared", "helpful") if reward == "engaged" else ("shared",)
    touches: dict[tuple[str, str], list] = defaultdict(list)
    for opp_id, asset_id, when in session.execute(
            select(ContentEvent.opportunity_id, ContentEvent.asset_id, ContentEvent.occurred_at)
            .where(ContentEvent.event_type.in_(engaged_types))
            .order_by(ContentEvent.occurred_at)):
        touches[(opp_id, asset_id)].append(when)
    order = {s: i for i, s in enumerate(baton.stages.buying_stage_names)}
    forward: dict[str, list] = defaultdict(list)  # opp -> [(time, buying stage order)]
    if reward == "advanced":
        for opp_id, to_stage, when in session.execute(
                select(StageChange.opportunity_id, StageChange.to_stage, StageChange.changed_at)
                .order_by(StageChange.changed_at)):
            pipe = opps.get(opp_id, ("",))[0] or None
            try:
                ps = baton.stages.pipeline_stage(to_stage, pipe)
            except UnknownStageError:  # unknown stage names carry no signal here
                continue
            rank = len(order) if ps.outcome == "won" else order.get(ps.buying_stage or "", -1)
            forward[opp_id].append((when, rank))

    def reward_of(opp_id: str, asset_id: str, buying: str, when) -> float:
        times = touches.get((opp_id, asset_id), [])
        i = bisect_left(times, when)
        if i >= len(times) or times[i] > when + window:
            return 0.0
        if reward == "engaged":
            return 1.0
        shared_at = times[i]
        return float(any(shared_at <= t <= when + window and r > order.get(buying, 0)
                         for t, r in forward.get(opp_id, ())))

    n_lists = len(lists)
    list_stage = [""] * n_lists
    list_opp = [""] * n_lists
    list_size = np.zeros(n_lists, dtype=np.int64)
    candidates: dict[str, set[str]] = defaultdict(set)
    for number, opp_id, asset_id, buying, _when, _p in items:
        list_stage[number], list_opp[number] = buying, opp_id
        list_size[number] += 1
        candidates[buying].add(asset_id)

    stages = baton.stages
    ranking_cache: dict[tuple, list[str]] = {}

    def ranked(buying: str, persona: str, industry: str) -> list[str]:
        key = (buying, persona, industry)
        if key not in ranking_cache:
            ids = sorted(candidates[buying])
            mean, _sd = model.posterior(ids, buying, {"persona": persona, "industry": industry})
            mean = np.nan_to_num(np.asarray(mean, dtype=np.float64), nan=-np.inf)
            ranking_cache[key] = [ids[j] for j in np.argsort(-mean, kind="stable")]
        return ranking_cache[key]

    policy = []
    for number in range(n_lists):
        info = opps.get(list_opp[number], ("", "", "", "", None))
        stage, k = list_stage[number], int(list_size[number])
        persona = vocabulary_name(info[1], stages.personas)
        industry = vocabulary_name(info[2], stages.industries)
        if target is None:
            probs = {a: 1.0 for a in ranked(stage, persona, industry)[:k]}
        else:
            probs = target(stage, sorted(candidates[stage]), k,
                           {"persona": persona, "industry": industry})
        policy.append({(stage, a): float(p) for a, p in probs.items()})

    logged = LoggedLists(
        list_index=np.array([it[0] for it in items], dtype=np.int64),
        item_keys=[(it[3], it[2]) for it in items],
        rewards=np.array([reward_of(it[1], it[2], it[3], it[4]) for it in items]),
        propensities=np.array([it[5] for it in items]),
        target=policy,
        clusters=np.array(list_opp),
    )
    result = _evaluate(logged, clip=clip, estimators=ESTIMATORS, interval=interval,
                       n_boot=n_boot, level=level, seed=seed)
    if target is not None:
        return OPEReport(result, reward, float(window_days),
                         str(getattr(target, "__doc__", None) or "custom target policy"), "")
    version = str(getattr(model, "version_", None) or getattr(model, "version", "")
                  or type(model).__name__)
    return OPEReport(result, reward, float(window_days),
                     "greedy by posterior mean effect among logged assets of the stage",
                     version)
