"""Human-readable reasons for a recommended asset, read from its score components."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from recommender.content.library_arrays import LibraryArrays, as_list
from recommender.ranking.scoring import (
    DEFAULT_WEIGHTS,
    DealContext,
    RankingWeights,
    ScoreBreakdown,
)

# Normal quantile of the 90% interval quoted in the reasons.
Z_90 = 1.645


def _pts(x: float) -> str:
    return f"{x * 100:+.0f}".replace("-", "\u2212")


def _excerpt(text: str, limit: int = 90) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _stage_reasons(library: LibraryArrays, deal: DealContext, i: int,
                   breakdown: ScoreBreakdown) -> list[str]:
    stage = library.stages[i]
    conf = library.stage_confidence[i]
    auto = f" (auto-tagged, {conf:.0%} confident)" if conf < 1.0 else ""
    if stage == deal.buying_stage:
        return [f"fits the {deal.buying_stage} stage{auto}"]
    if breakdown.stage_fit[i] > 0:
        return [f"made for the {stage} stage, next to {deal.buying_stage}{auto}"]
    return []


def _tag_reasons(library: LibraryArrays, deal: DealContext, i: int) -> list[str]:
    matched = []
    for dimension, value in (("personas", deal.persona), ("industries", deal.industry)):
        if value and library.tag_mask(dimension, [value])[i]:
            matched.append(str(value))
    matched += [p for p in as_list(deal.products) if library.tag_mask("products", [p])[i]]
    return ["made for " + ", ".join(matched)] if matched else []


def _effect_reasons(deal: DealContext, effect_mean: float, effect_sd: float,
                    weights: RankingWeights) -> list[str]:
    lo, hi = effect_mean - Z_90 * effect_sd, effect_mean + Z_90 * effect_sd
    interval = f"{_pts(effect_mean)} pts chance to advance (90% CI {_pts(lo)} to {_pts(hi)})"
    who = f"in {deal.industry} " if deal.industry else ""
    if lo > 0:
        return [f"won deals {who}at this stage used it: {interval}"]
    if hi < 0:
        return [f"deals {who}that used it at this stage did worse: {interval}"]
    if effect_sd >= weights.evidence_sd:
        return ["new asset: being explored"]
    return [f"no clear effect at this stage yet: {interval}"]


def _on_day(what: str, asset_id: str, days: Mapping[str, date | datetime]) -> str:
    when = days.get(asset_id)
    day = when.date() if isinstance(when, datetime) else when
    return f"{what} on {day.isoformat()}" if day else what


def reasons_for(library: LibraryArrays, deal: DealContext, i: int, breakdown: ScoreBreakdown,
                effect_mean: float, effect_sd: float, weights: RankingWeights = DEFAULT_WEIGHTS,
                rules_fired: Sequence[str] = (), explored: bool = False,
                passage: str = "", passage_score: float = 0.0,
                learned: bool = True) -> list[str]:
    """Return human-readable reasons for asset ``i`` from its score components.

    Parameters
    ----------
    library : LibraryArrays
    deal : DealContext
    i : int
        Row of the asset in ``library``.
    breakdown : ScoreBreakdown
        Score components of every asset, each (n,).
    effect_mean, effect_sd : float
        The asset's effect posterior. The interval shown is the 90% normal interval; the effect
        is quoted when that interval excludes zero, and a wide posterior (sd at or above
        ``weights.evidence_sd``) reads "new asset: being explored".
    weights : RankingWeights
    rules_fired : sequence of str
        Names of the include/boost rules that fired on the asset.
    explored : bool
        True for an exploration pick.
    passage, passage_score : str, float
        The asset's passage closest to the deal and its cosine; quoted above
        ``weights.quote_threshold``.
    learned : bool
        False while no outcome model is trained: the effect is left out of the reasons.

    Returns
    -------
    list of str
    """
    reasons = [f"rule: {name}" for name in rules_fired]
    reasons += _stage_reasons(library, deal, i, breakdown)
    if passage and passage_score >= weights.quote_threshold:
        reasons.append(f"matches the deal notes: '{_excerpt(passage)}'")
    reasons += _tag_reasons(library, deal, i)
    if learned:
        reasons += _effect_reasons(deal, effect_mean, effect_sd, weights)
    if explored:
        reasons.append("exploration pick: shown at random to learn its effect")
    asset_id = str(library.asset_ids[i])
    if breakdown.shared[i]:
        reasons.append(_on_day("already shared", asset_id, deal.shared_on))
    if breakdown.not_helpful[i]:
        reasons.append(_on_day("marked not helpful", asset_id, deal.not_helpful_on))
    return reasons
