"""Marketer analytics: content influence, gaps, funnel, the quarterly review and policy value.

Effects come from the trained outcome model (``current_model``, imported from
``web.services.learning.training``); without one, influence rows say "model not trained — run
baton train" and gaps still list the cells with no asset. The maths lives in
``recommender.learning.analytics``, ``recommender.learning.funnel`` and
``recommender.learning.review``; this module only reads the database into plain records.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Asset, ContentEvent, ContentRequest, Opportunity, StageChange
from recommender.domain import utcnow, vocabulary_name
from recommender.errors import ValidationError
from recommender.learning.analytics import (
    AssetInfo,
    GapCell,
    InfluenceRow,
    gap_cells,
    influence_rows,
    naive_rates,
)
from recommender.learning.effects import ContentEffectModel
from recommender.learning.funnel import FunnelRow, StageInfo, funnel_rows, stage_visits
from recommender.learning.review import ReviewInput, review_csv, review_markdown, write_csv
from recommender.learning.stage_names import StageMapper
from web.runtime import Baton
from web.services.learning.policy_evaluation import OPEReport, TargetPolicy, evaluate_logged
from web.services.learning.training import current_model

__all__ = ["OPEReport", "evaluate_policy", "influence", "gaps", "funnel", "quarterly_review",
           "current_model", "MIN_SUPPORT", "NOT_TRAINED"]

MIN_SUPPORT = 20
NOT_TRAINED = "model not trained — run baton train"


def resolve_stage(baton: Baton, stage: str | None) -> str | None:
    """Map a buying or pipeline stage name to its buying stage; None stays None."""
    if stage is None or not str(stage).strip():
        return None
    buying = baton.stages.resolve_buying_stage(stage)
    if buying is None:
        raise ValidationError(f"stage {stage!r} is a closed stage; give a buying stage "
                              f"({', '.join(baton.stages.buying_stage_names)})")
    return buying


def library_assets(baton: Baton, session: Session) -> dict[str, AssetInfo]:
    """Return every asset as ``AssetInfo`` (recommendable = active and not expired)."""
    today = utcnow().date()
    assets = {}
    for a in session.scalars(select(Asset)):
        recommendable = a.status == "active" and (a.expires is None or a.expires >= today)
        assets[a.id] = AssetInfo(a.id, a.title, a.type, a.stage, tuple(a.personas or ()),
                                 tuple(a.industries or ()), recommendable)
    return assets


def _naive(baton: Baton, session: Session) -> dict:
    """Count naive win rates per (asset, buying stage) from share events and outcomes."""
    mapper = StageMapper(baton.stages)
    outcomes: dict[str, str] = {}
    pipelines: dict[str, str] = {}
    reached: dict[str, set[str]] = defaultdict(set)
    for opp_id, status, buying, pipeline in session.execute(select(
            Opportunity.opportunity_id, Opportunity.status, Opportunity.buying_stage,
            Opportunity.pipeline)):
        outcomes[opp_id] = status
        pipelines[opp_id] = pipeline
        if buying:
            reached[opp_id].add(buying)
    for opp_id, before, after in session.execute(select(
            StageChange.opportunity_id, StageChange.from_stage, StageChange.to_stage)):
        for name in (before, after):
            buying = mapper(name, pipelines.get(opp_id))
            if buying:
                reached[opp_id].add(buying)
    shared = []
    for opp_id, asset_id, buying, stage in session.execute(select(
            ContentEvent.opportunity_id, ContentEvent.asset_id, ContentEvent.buying_stage,
            ContentEvent.stage).where(ContentEvent.event_type == "shared").distinct()):
        buying = buying or mapper(stage, pipelines.get(opp_id))
        if buying:
            shared.append((opp_id, asset_id, buying))
    return naive_rates(shared, reached, outcomes)


def influence(baton: Baton, session: Session, stage: str | None = None,
              min_support: int = MIN_SUPPORT, include_segments: bool = False,
              ) -> list[InfluenceRow]:
    """Return per asset and buying stage: effect, interval, support, naive rates and verdict."""
    buying = resolve_stage(baton, stage)
    model = current_model(baton)
    estimates = None if model is None else list(model.effects_)
    level = 0.9 if model is None else float(model.level)
    return influence_rows(estimates, library_assets(baton, session), _naive(baton, session),
                          baton.stages.buying_stage_names, stage=buying,
                          min_support=min_support, level=level,
                          include_segments=include_segments, not_trained_reason=NOT_TRAINED)


def gaps(baton: Baton, session: Session, include_covered: bool = False,
         min_support: int = MIN_SUPPORT) -> list[GapCell]:
    """Return buying stage × persona × industry cells with no asset, or none that helps."""
    stages = baton.stages
    assets = library_assets(baton, session)
    model = current_model(baton)
    verdicts = None
    if model is not None:
        verdicts = {(r.asset_id, r.buying_stage): r.verdict
                    for r in influence(baton, session, min_support=min_support)}
    personas = [t.name for t in stages.personas] or sorted(
        {p for a in assets.values() for p in a.personas})
    industries = [t.name for t in stages.industries] or sorted(
        {i for a in assets.values() for i in a.industries})
    requests = [(r.buying_stage, vocabulary_name(r.persona, stages.personas),
                 vocabulary_name(r.industry, stages.industries))
                for r in session.scalars(select(ContentRequest)
                                         .where(ContentRequest.status == "open"))]
    open_deals = [(buying, vocabulary_name(persona, stages.personas),
                   vocabulary_name(industry, stages.industries))
                  for buying, persona, industry in session.execute(
                      select(Opportunity.buying_stage, Opportunity.persona, Opportunity.industry)
                      .where(Opportunity.status == "open"))]
    return gap_cells(assets.values(), stages.buying_stage_names, personas or [""],
                     industries or [""], verdicts, requests, open_deals, include_covered)


def funnel(baton: Baton, session: Session, pipeline: str | None = None) -> list[FunnelRow]:
    """Return per pipeline stage: entries, advances, losses, conversion and time in stage."""
    chosen = baton.stages.pipeline(pipeline)
    infos = {s.name: StageInfo(s.name, s.order, s.buying_stage, s.outcome)
             for s in chosen.stages}
    opps = {o.opportunity_id: o for o in session.scalars(
        select(Opportunity).where(Opportunity.pipeline == chosen.name))}

    def canonical(name: str | None) -> str | None:
        if not name:
            return None
        found = chosen.find(name)
        return found.name if found is not None else None

    history: dict[str, list] = defaultdict(list)
    for change in session.scalars(select(StageChange).order_by(StageChange.opportunity_id,
                                                                StageChange.changed_at)):
        opp = opps.get(change.opportunity_id)
        to_stage = canonical(change.to_stage)
        if opp is None or to_stage is None:
            continue
        entries = history[opp.opportunity_id]
        before = canonical(change.from_stage)
        if not entries and before is not None:
            entries.append((before, opp.created_at or change.changed_at))
        entries.append((to_stage, change.changed_at))
    for opp_id, opp in opps.items():
        if opp_id not in history and canonical(opp.stage):
            entered = opp.stage_entered_at or opp.created_at
            if entered is not None:
                history[opp_id].append((canonical(opp.stage), entered))
    visits = stage_visits(history, infos, {o: opps[o].status for o in history},
                          {o: opps[o].closed_at for o in history})
    return funnel_rows(visits, list(infos.values()), utcnow())


def quarterly_review(baton: Baton, session: Session, period: str = "",
                     min_support: int = MIN_SUPPORT) -> tuple[str, str]:
    """Return the quarterly content review as (Markdown, CSV)."""
    model = current_model(baton)
    rows = influence(baton, session, min_support=min_support)
    cells = gaps(baton, session, min_support=min_support)
    requests = [{"need": r.need, "buying_stage": r.buying_stage, "persona": r.persona,
                 "industry": r.industry}
                for r in session.scalars(select(ContentRequest)
                                         .where(ContentRequest.status == "open")
                                         .order_by(ContentRequest.created_at))]
    now = utcnow()
    if not period:
        period = f"{now.year} Q{(now.month - 1) // 3 + 1}"
    data = ReviewInput(stages=baton.stages.buying_stage_names, influence=rows, gaps=cells,
                       funnel=funnel(baton, session), requests=requests, generated_at=now,
                       period=period, model_trained=model is not None, min_support=min_support)
    return review_markdown(data), review_csv(data)


def evaluate_policy(baton: Baton, session: Session, reward: str = "engaged",
                    window_days: float = 14.0, clip: float | None = 100.0,
                    interval: str = "bootstrap", n_boot: int = 300, level: float = 0.9,
                    seed: int = 0, model: ContentEffectModel | None = None,
                    target: TargetPolicy | None = None) -> OPEReport:
    """Estimate the current ranking's value (reward per list) from the logged lists.

    ``target``, when given, replaces the current ranking: a callable ``(buying_stage,
    candidates, k, context) -> {asset_id: inclusion probability}`` (no trained model needed).
    """
    if model is None and target is None:
        model = current_model(baton)
    return evaluate_logged(baton, session, model=model, target=target, reward=reward,
                           window_days=window_days, clip=clip, interval=interval,
                           n_boot=n_boot, level=level, seed=seed)


def influence_csv(rows: list[InfluenceRow]) -> str:
    """Render influence rows as CSV (text cells neutralised against formula injection)."""
    header = ["asset_id", "title", "type", "buying_stage", "segment", "effect", "lower", "upper",
              "support", "win_rate_used", "win_rate_not_used", "deals_used", "verdict",
              "explanation"]
    records = (r.to_dict() for r in rows)
    return write_csv(([record[h] for h in header] for record in records), header)
