"""Recommend assets for a deal: rank with the learned effects and the rules, serve, log.

A closed opportunity (won or lost) still gets an answer: the content of the last buying stage
it was in before closing (from its stage history; the last buying stage when there is none),
with a ``note`` saying so. Every served list is logged (``RecommendationLog``, one
``RecommendedItem`` and one ``recommended`` event per item, with its propensity).
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass, field

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from models import Asset, ContentEvent, Opportunity, StageChange
from models.recommendations import RecommendationLog, RecommendedItem
from models.rules import Rule
from recommender.domain import utcnow, vocabulary_name
from recommender.errors import BatonError, NotFoundError, UnknownStageError, ValidationError
from recommender.ranking.policy import ThompsonPolicy
from recommender.ranking.priors import NeutralEffects
from recommender.ranking.rules import RuleSpec, apply_rules, validate_rule
from recommender.ranking.scoring import Candidates, DealContext, rank, reasons_for
from web.runtime import Baton
from web.services.learning import training as learning
from web.services.ranking.library_cache import library_candidates

MAX_K = 50
_CONTEXT_CACHE = "recommend.context_vectors"
_POSTERIOR_CACHE = "recommend.posteriors"
_NEUTRAL = NeutralEffects()  # one instance, so its posteriors are cached like a model's
_RULES_REFRESH_SECONDS = 2.0
_LOCK = threading.Lock()  # guards the OrderedDict caches across a server's threads


@dataclass
class RecommendedAsset:
    """One recommended asset with its score, reasons, quoted passage and propensity."""

    asset_id: str
    title: str
    url: str | None
    type: str
    stage: str
    score: float
    reasons: list[str]
    passage: str
    propensity: float
    rank: int
    recommendation_id: str | None
    explored: bool = False


@dataclass
class RecommendationList:
    """A served list; ``recommendation_id`` is None in explain mode (nothing logged)."""

    recommendation_id: str | None
    opportunity_id: str
    buying_stage: str
    items: list[RecommendedAsset] = field(default_factory=list)
    served_by: str = "thompson"
    policy_version: str = ""
    seed: int | None = None
    candidate_count: int = 0
    note: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["recommendations"] = data.pop("items")
        return data




def _buying_stage(baton: Baton, session: Session, opp: Opportunity) -> tuple[str, str]:
    """Return the deal's buying stage and a note (non-empty for a closed deal)."""
    stages = baton.stages
    try:
        current = stages.resolve_buying_stage(opp.stage, opp.pipeline)
    except UnknownStageError:
        current = opp.buying_stage
    if current:
        return current, ""
    history = session.scalars(
        select(StageChange).where(StageChange.opportunity_id == opp.opportunity_id)
        .order_by(StageChange.changed_at.desc(), StageChange.id.desc()).limit(50)
    )
    for change in history:
        for name in (change.to_stage, change.from_stage):
            try:
                found = stages.resolve_buying_stage(name, opp.pipeline) if name else None
            except UnknownStageError:
                found = None
            if found:
                return found, (f"this deal is closed ({opp.status}); showing content for its "
                               f"last open stage, {found}")
    last = stages.buying_stage_names[-1]
    return last, f"this deal is closed ({opp.status}); showing content for the {last} stage"


def _context(baton: Baton, text: str, candidates: Candidates):
    """Return the deal's context vector (d,) and its semantic match (n,), both cached."""
    if not text.strip() or len(candidates) == 0:
        return None, None
    cache: OrderedDict = baton.cache.setdefault(_CONTEXT_CACHE, OrderedDict())
    embedder = baton.embedder
    key = (embedder.name, hashlib.sha256(text.encode("utf-8")).hexdigest())
    with _LOCK:
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
    if hit is None:
        hit = [embedder.encode([text])[0], None, None]
        with _LOCK:
            cache[key] = hit
            while len(cache) > 4096:
                cache.popitem(last=False)
    vector = hit[0]
    if vector.shape[0] != candidates.vectors.shape[1]:
        return None, None
    semantic = hit[2]
    if hit[1] is candidates and semantic is not None:
        return vector, semantic
    # The (n,) semantic match costs a pass over every passage vector: keep it for the few
    # hundred most recent deals (bounded to about 32 MB) while the library is unchanged.
    semantic = candidates.semantic(vector).astype(np.float32)
    with _LOCK:
        budget = max(16, (32 << 20) // (4 * len(candidates) + 1))
        excess = len(cache) - budget
        for position, entry in enumerate(cache.values()):  # oldest first
            if position >= excess:
                break
            entry[1] = entry[2] = None
        hit[2], hit[1] = semantic, candidates
    return vector, semantic


def _effect_model(baton: Baton):
    """Return the trained effect model, or the neutral prior while none is trained."""
    model = learning.current_model(baton)
    return model if model is not None else _NEUTRAL


def _posterior(baton: Baton, model, candidates: Candidates, stage: str, context: dict):
    """Return the effect posterior (mean, sd) of every asset, cached per model and segment."""
    cache: OrderedDict = baton.cache.setdefault(_POSTERIOR_CACHE, OrderedDict())
    key = (id(model), id(candidates), stage, tuple(sorted(context.items())))
    with _LOCK:
        hit = cache.get(key)
        if hit is not None and hit[0] is model and hit[1] is candidates:
            cache.move_to_end(key)
            return hit[2], hit[3]
    ids = list(candidates.asset_ids)
    # New assets get the prior of their type x stage.
    types = dict(zip(ids, candidates.types.tolist(), strict=True))
    mean, sd = model.posterior(ids, stage, context, asset_types=types)
    mean = np.nan_to_num(np.asarray(mean, dtype=np.float64))
    sd = np.nan_to_num(np.asarray(sd, dtype=np.float64), nan=NeutralEffects().sd)
    if mean.shape != (len(ids),) or sd.shape != (len(ids),):
        raise BatonError(f"the effect model returned shapes {mean.shape}, {sd.shape} for "
                         f"{len(ids)} assets")
    with _LOCK:
        cache[key] = (model, candidates, mean, sd)
        while len(cache) > max(8, (64 << 20) // (16 * len(ids) + 1)):  # about 64 MB at most
            cache.popitem(last=False)
    return mean, sd


def _model_version(baton: Baton, model) -> str:
    """Return the model's version, computed once per loaded model (it may hash its effects)."""
    cached = baton.cache.get("recommend.model_version")
    if cached is not None and cached[0] is model:
        return cached[1]
    version = str(getattr(model, "version_", None) or getattr(model, "version", "")
                  or type(model).__name__)
    baton.cache["recommend.model_version"] = (model, version)
    return version


def _rules(baton: Baton, session: Session) -> list[RuleSpec]:
    cached = baton.cache.get("recommend.rules")
    if cached is not None and time.monotonic() - cached[2] < _RULES_REFRESH_SECONDS:
        return cached[1]  # other workers' rule edits apply within two seconds
    count, newest = session.execute(
        select(func.count(Rule.id), func.max(Rule.updated_at)).where(Rule.active.is_(True))
    ).one()
    if cached is not None and cached[0] == (count, newest):
        baton.cache["recommend.rules"] = (cached[0], cached[1], time.monotonic())
        return cached[1]
    specs = []
    for rule in session.scalars(select(Rule).where(Rule.active.is_(True)).order_by(Rule.id)):
        try:
            specs.append(validate_rule({"name": rule.name, "condition": rule.condition,
                                        "action": rule.action, "target": rule.target,
                                        "weight": rule.weight}, baton.stages))
        except BatonError:
            continue  # e.g. the stage config changed under a stored rule; it no longer applies
    baton.cache["recommend.rules"] = ((count, newest), specs, time.monotonic())
    return specs


def recommend(baton: Baton, session: Session, opportunity_id: str, k: int = 5, user: str = "",
              mode: str = "sample", seed: int | None = None) -> RecommendationList:
    """Rank, serve and log a list of up to ``k`` assets for the opportunity.

    ``mode="sample"`` serves the exploring policy (Thompson sampling, ε floor, holdout) and logs
    the list; ``mode="explain"`` ranks deterministically by the posterior mean and logs nothing.
    """
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise ValidationError(f"k must be an integer from 1 to {MAX_K}, got {k!r}")
    if mode not in ("sample", "explain"):
        raise ValidationError(f"mode must be 'sample' or 'explain', got {mode!r}")
    opp = session.get(Opportunity, opportunity_id)
    if opp is None:
        raise NotFoundError(f"unknown opportunity {opportunity_id!r}")
    buying_stage, note = _buying_stage(baton, session, opp)
    candidates = library_candidates(baton, session)
    stages = baton.stages

    feedback_rows = session.execute(
        select(ContentEvent.event_type, ContentEvent.asset_id, func.min(ContentEvent.occurred_at))
        .where(ContentEvent.opportunity_id == opp.opportunity_id,
               ContentEvent.event_type.in_(("shared", "not_helpful")))
        .group_by(ContentEvent.event_type, ContentEvent.asset_id)
    ).all()
    shared_on = {a: when for kind, a, when in feedback_rows if kind == "shared"}
    not_helpful_on = {a: when for kind, a, when in feedback_rows if kind == "not_helpful"}
    received = []
    if shared_on:
        received = list(session.scalars(select(Asset.title).where(Asset.id.in_(shared_on))))
    industry = vocabulary_name(opp.industry, stages.industries)
    persona = vocabulary_name(opp.persona, stages.personas)
    products = [vocabulary_name(p, stages.products) for p in (opp.products or [])]
    text = "\n".join(x for x in [opp.notes or "", industry, persona, " ".join(products),
                                 "; ".join(received)] if x)
    vector, semantic = _context(baton, text, candidates)
    deal = DealContext(buying_stage, stages.buying_stage_names, vector, industry, persona,
                       products, shared_on, not_helpful_on, semantic)

    model = _effect_model(baton)
    # The segments effects are learned for (see recommender.learning.effects); more keys would only
    # split the posterior cache.
    context = {"industry": industry, "persona": persona}
    mean, sd = _posterior(baton, model, candidates, buying_stage, context)
    fields = {"stage": opp.stage, "buying_stage": buying_stage, "industry": industry,
              "persona": persona, "amount": opp.amount, "products": products,
              "owner": opp.owner, "status": opp.status, "account": opp.account,
              "name": opp.name}
    effects = apply_rules(_rules(baton, session), fields, candidates, stages)
    settings = baton.settings
    policy = ThompsonPolicy(settings.exploration, settings.holdout)
    model_version = _model_version(baton, model)

    exclude = effects.exclude.copy()
    for _attempt in range(3):
        if mode == "explain":
            served = None
            eligible = ~exclude
            ids, _scores, breakdown = rank(candidates, deal, k, mean, policy.weights,
                                           effects.boost, eligible=eligible & ~effects.include)
            inc = np.flatnonzero(effects.include & eligible & candidates.recommendable)
            inc = inc[np.argsort(-breakdown.total[inc], kind="stable")][:k]
            rest = [candidates.index_of[a] for a in ids][: k - len(inc)]
            indices = np.concatenate([inc, np.asarray(rest, dtype=np.int64)]).astype(np.int64)
            propensities = np.ones(len(indices))
            explored = np.zeros(len(indices), dtype=bool)
        else:
            served = policy.serve(candidates, deal, k, mean, sd, effects.boost,
                                  effects.include, exclude, seed)
            indices, breakdown = served.indices, served.breakdown
            propensities, explored = served.propensities, served.explored
        chosen = [str(candidates.asset_ids[i]) for i in indices]
        rows = {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(chosen)))}
        today = utcnow().date()
        stale = [i for i, a in zip(indices, chosen, strict=True)
                 if a not in rows or rows[a].status != "active"
                 or (rows[a].expires is not None and rows[a].expires < today)]
        if not stale:
            break
        exclude[stale] = True  # the cached library is a moment behind: never serve these
    else:
        raise BatonError("the library changed while ranking; try again")

    # The policy decides which assets are shown (propensities are inclusion probabilities);
    # within the list, rule inclusions come first and the rest follow the score we report,
    # so a ranked list reads ranked.
    indices = np.asarray(indices, dtype=np.int64)
    order = np.lexsort((-breakdown.total[indices], ~effects.include[indices]))
    indices = indices[order]
    chosen = [chosen[j] for j in order]
    propensities = np.asarray(propensities)[order]
    explored = np.asarray(explored)[order]

    recommendation_id = uuid.uuid4().hex if mode == "sample" else None
    items = []
    for position, (i, asset_id) in enumerate(zip(indices, chosen, strict=True)):
        asset = rows[asset_id]
        passage, passage_score = candidates.best_passage(int(i), vector)
        reasons = reasons_for(candidates, deal, int(i), breakdown, float(mean[i]), float(sd[i]),
                              policy.weights, effects.names_for(int(i)), bool(explored[position]),
                              passage, passage_score,
                              learned=not isinstance(model, NeutralEffects))
        items.append(RecommendedAsset(
            asset_id, asset.title, asset.url, asset.type, asset.stage,
            round(float(breakdown.total[i]), 4), reasons, passage,
            round(float(propensities[position]), 6), position + 1, recommendation_id,
            bool(explored[position])))

    result = RecommendationList(recommendation_id, opp.opportunity_id, buying_stage, items,
                                served.served_by if served else "explain",
                                f"{policy.version};effects={model_version}"[:200],
                                served.seed if served else None,
                                served.eligible_count if served else int(
                                    (candidates.recommendable & ~exclude).sum()), note)
    if served is not None:
        _log(session, opp, result, user)
    return result


def _log(session: Session, opp: Opportunity, result: RecommendationList, user: str) -> None:
    now = utcnow()
    rid = result.recommendation_id
    session.execute(insert(RecommendationLog), [{
        "recommendation_id": rid, "opportunity_id": opp.opportunity_id, "user": user,
        "buying_stage": result.buying_stage, "policy_version": result.policy_version,
        "served_by": result.served_by, "seed": result.seed,
        "candidate_count": result.candidate_count, "k": len(result.items), "created_at": now}])
    if result.items:
        session.execute(insert(RecommendedItem), [{
            "recommendation_id": rid, "rank": item.rank, "asset_id": item.asset_id,
            "score": item.score, "propensity": item.propensity, "shown": True}
            for item in result.items])
        session.execute(insert(ContentEvent), [{
            "event_id": f"rec-{rid}-{item.rank}", "opportunity_id": opp.opportunity_id,
            "asset_id": item.asset_id, "event_type": "recommended", "stage": opp.stage,
            "buying_stage": result.buying_stage, "occurred_at": now, "user": user,
            "propensity": item.propensity, "recommendation_id": rid, "created_at": now}
            for item in result.items])
    session.commit()
