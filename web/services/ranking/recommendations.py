"""Recommend assets for a deal: rank with the learned effects and the rules, serve, log.

The ranking itself (explain mode, serving, display order, reasons) is the core's
``recommender.ranking.deal_ranking.rank_for_deal``; this service loads the deal and its
feedback, keeps the caches (context vectors, posteriors, rules), re-checks the assets about to
be served against the database, and logs.

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
from datetime import date

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from models import Asset, ContentEvent, Opportunity, StageChange
from models.recommendations import RecommendationLog, RecommendedItem
from models.rules import Rule
from recommender.content.library_arrays import LibraryArrays
from recommender.domain import utcnow, vocabulary_name
from recommender.errors import BatonError, NotFoundError, UnknownStageError, ValidationError
from recommender.ranking.deal_ranking import DealRanking, check_mode, rank_for_deal
from recommender.ranking.policy import ThompsonPolicy
from recommender.ranking.priors import EffectModel, NeutralEffects
from recommender.ranking.rules import RuleEffects, RuleSpec, apply_rules
from recommender.ranking.scoring import DealContext
from web.runtime import Baton
from web.services.content.index import get_library_arrays
from web.services.learning.training import current_model
from web.services.ranking.rules import rule_spec

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


def _context(baton: Baton, text: str, library: LibraryArrays):
    """Return the deal's context vector (d,) and its semantic match (n,), both cached."""
    if not text.strip() or len(library) == 0:
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
    if vector.shape[0] != library.asset_vectors.shape[1]:
        return None, None
    semantic = hit[2]
    if hit[1] is library and semantic is not None:
        return vector, semantic
    # The (n,) semantic match costs a pass over every passage vector: keep it for the few
    # hundred most recent deals (bounded to about 32 MB) while the library is unchanged.
    semantic = library.semantic(vector).astype(np.float32)
    with _LOCK:
        budget = max(16, (32 << 20) // (4 * len(library) + 1))
        excess = len(cache) - budget
        for position, entry in enumerate(cache.values()):  # oldest first
            if position >= excess:
                break
            entry[1] = entry[2] = None
        hit[2], hit[1] = semantic, library
    return vector, semantic


def _effect_model(baton: Baton) -> EffectModel:
    """Return the trained effect model, or the neutral prior while none is trained."""
    model = current_model(baton)
    return model if model is not None else _NEUTRAL


def _posterior(baton: Baton, model: EffectModel, library: LibraryArrays, stage: str,
               context: dict) -> tuple[np.ndarray, np.ndarray]:
    """Return the effect posterior (mean, sd) of every asset, cached per model and segment."""
    cache: OrderedDict = baton.cache.setdefault(_POSTERIOR_CACHE, OrderedDict())
    key = (id(model), id(library), stage, tuple(sorted(context.items())))
    with _LOCK:
        hit = cache.get(key)
        if hit is not None and hit[0] is model and hit[1] is library:
            cache.move_to_end(key)
            return hit[2], hit[3]
    ids = list(library.asset_ids)
    # New assets get the prior of their type x stage.
    types = dict(zip(ids, library.types.tolist(), strict=True))
    mean, sd = model.posterior(ids, stage, context, asset_types=types)
    mean = np.nan_to_num(np.asarray(mean, dtype=np.float64))
    sd = np.nan_to_num(np.asarray(sd, dtype=np.float64), nan=NeutralEffects().sd)
    if mean.shape != (len(ids),) or sd.shape != (len(ids),):
        raise BatonError(f"the effect model returned shapes {mean.shape}, {sd.shape} for "
                         f"{len(ids)} assets")
    with _LOCK:
        cache[key] = (model, library, mean, sd)
        while len(cache) > max(8, (64 << 20) // (16 * len(ids) + 1)):  # about 64 MB at most
            cache.popitem(last=False)
    return mean, sd


def _model_version(baton: Baton, model: EffectModel) -> str:
    """Return the model's version, computed once per loaded model (it may hash its effects)."""
    cached = baton.cache.get("recommend.model_version")
    if cached is not None and cached[0] is model:
        return cached[1]
    version = str(model.version)
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
            specs.append(rule_spec(rule, baton.stages))
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
    check_mode(mode)
    opp = session.get(Opportunity, opportunity_id)
    if opp is None:
        raise NotFoundError(f"unknown opportunity {opportunity_id!r}")
    buying_stage, note = _buying_stage(baton, session, opp)
    library = get_library_arrays(baton, session)
    deal = _deal_context(baton, session, opp, buying_stage, library)
    model = _effect_model(baton)
    # The segments effects are learned for (see recommender.learning.effects); more keys would
    # only split the posterior cache.
    context = {"industry": deal.industry, "persona": deal.persona}
    mean, sd = _posterior(baton, model, library, buying_stage, context)
    effects = apply_rules(_rules(baton, session), _rule_fields(opp, deal), library, baton.stages)
    policy = ThompsonPolicy(baton.settings.exploration, baton.settings.holdout)
    ranking, rows = _rank_fresh(session, library, deal, k, mean, sd, effects, policy, mode, seed,
                                learned=not isinstance(model, NeutralEffects))

    recommendation_id = uuid.uuid4().hex if mode == "sample" else None
    items = []
    for position, i in enumerate(ranking.indices.tolist()):
        asset = rows[str(library.asset_ids[i])]
        items.append(RecommendedAsset(
            asset.id, asset.title, asset.url, asset.type, asset.stage,
            round(float(ranking.scores[position]), 4), ranking.reasons[position],
            ranking.passages[position], round(float(ranking.propensities[position]), 6),
            position + 1, recommendation_id, bool(ranking.explored[position])))
    result = RecommendationList(
        recommendation_id, opp.opportunity_id, buying_stage, items, ranking.served_by,
        f"{policy.version};effects={_model_version(baton, model)}"[:200], ranking.seed,
        ranking.eligible_count, note)
    if mode == "sample":
        _log(session, opp, result, user)
    return result


def _deal_context(baton: Baton, session: Session, opp: Opportunity, buying_stage: str,
                  library: LibraryArrays) -> DealContext:
    """Return what ranking knows about the deal: its tags, feedback and context vector."""
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
    vector, semantic = _context(baton, text, library)
    return DealContext(buying_stage, stages.buying_stage_names, vector, industry, persona,
                       products, shared_on, not_helpful_on, semantic)


def _rule_fields(opp: Opportunity, deal: DealContext) -> dict:
    """Return the CRM fields rule conditions test."""
    return {"stage": opp.stage, "buying_stage": deal.buying_stage, "industry": deal.industry,
            "persona": deal.persona, "amount": opp.amount, "products": list(deal.products),
            "owner": opp.owner, "status": opp.status, "account": opp.account, "name": opp.name}


def _rank_fresh(session: Session, library: LibraryArrays, deal: DealContext, k: int,
                mean: np.ndarray, sd: np.ndarray, effects: RuleEffects, policy: ThompsonPolicy,
                mode: str, seed: int | None, learned: bool) -> tuple[DealRanking, dict]:
    """Rank with ``rank_for_deal``, never serving an asset the database no longer offers.

    Returns the ranking and the database rows of its assets, by id.
    """
    stale_mask = np.zeros(len(library), dtype=bool)
    for _attempt in range(3):
        ranking = rank_for_deal(library, deal, k, mean, sd, effects, policy, mode, seed,
                                exclude=stale_mask, learned=learned)
        chosen = [str(library.asset_ids[i]) for i in ranking.indices]
        rows = {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(chosen)))}
        today = utcnow().date()
        stale = [i for i, a in zip(ranking.indices, chosen, strict=True)
                 if not _offered(rows.get(a), today)]
        if not stale:
            return ranking, rows
        stale_mask[stale] = True  # the cached library is a moment behind: never serve these
    raise BatonError("the library changed while ranking; try again")


def _offered(asset: Asset | None, today: date) -> bool:
    """Return True when the database still offers ``asset`` for recommendation today."""
    return asset is not None and asset.status == "active" and (
        asset.expires is None or asset.expires >= today)


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
