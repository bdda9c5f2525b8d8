"""Rank the library for one deal: serve or explain, order the list, give each item its reasons.

Two modes:

* ``sample`` serves the exploring policy (``ThompsonPolicy.serve``: Thompson sampling, an ε
  floor and a holdout) and reports each item's propensity;
* ``explain`` ranks deterministically by the posterior mean (propensity 1, nothing explored).

In both, rule inclusions take the first slots. The policy decides which assets are shown; within
the list, rule inclusions come first and the rest follow the score reported, so a ranked list
reads ranked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recommender.content.library_arrays import LibraryArrays
from recommender.errors import ValidationError
from recommender.ranking.policy import ThompsonPolicy
from recommender.ranking.reasons import reasons_for
from recommender.ranking.rules import RuleEffects
from recommender.ranking.scoring import DealContext, ScoreBreakdown, rank_indices

MODES = ("sample", "explain")


def check_mode(mode: str) -> None:
    """Raise ``ValidationError`` unless ``mode`` is one of ``MODES``."""
    if mode not in MODES:
        raise ValidationError(f"mode must be 'sample' or 'explain', got {mode!r}")


@dataclass
class DealRanking:
    """A list for one deal in display order; every array has one entry per item (m,).

    ``indices`` are rows of the library; ``scores`` the score at the posterior mean;
    ``propensities`` the probability that the policy shows each item (1 in explain mode);
    ``explored`` marks ε / holdout picks; ``passages`` the passage of each item closest to the
    deal. ``served_by`` is ``thompson``, ``holdout`` or ``explain``; ``seed`` the RNG seed
    (None in explain mode); ``eligible_count`` the number of assets that could be shown.
    """

    indices: np.ndarray
    scores: np.ndarray
    propensities: np.ndarray
    explored: np.ndarray
    served_by: str
    seed: int | None
    eligible_count: int
    reasons: list[list[str]] = field(default_factory=list)
    passages: list[str] = field(default_factory=list)


def rank_for_deal(library: LibraryArrays, deal: DealContext, k: int, effect_mean: np.ndarray,
                  effect_sd: np.ndarray, rules: RuleEffects, policy: ThompsonPolicy,
                  mode: str = "sample", seed: int | None = None,
                  exclude: np.ndarray | None = None, learned: bool = True) -> DealRanking:
    """Rank up to ``k`` assets for the deal, ordered, each with its reasons.

    Parameters
    ----------
    library : LibraryArrays
        The library, n assets.
    deal : DealContext
    k : int
        Number of results wanted.
    effect_mean, effect_sd : ndarray, shape (n,)
        Effect posterior at the deal's buying stage.
    rules : RuleEffects
        Boosts, inclusions and exclusions of the marketer rules, each (n,).
    policy : ThompsonPolicy
        The serving policy; its weights also score explain mode.
    mode : {"sample", "explain"}
    seed : int, optional
        Seed of the serving RNG (sample mode); a fresh one is drawn when None.
    exclude : ndarray of bool, shape (n,), optional
        Assets never to show besides the rules' exclusions (e.g. found stale in the database).
    learned : bool
        False while the effects are the neutral prior: the reasons leave the effect out.

    Returns
    -------
    DealRanking
    """
    check_mode(mode)
    excluded = rules.exclude.copy()
    if exclude is not None:
        excluded |= np.asarray(exclude, dtype=bool)
    mean = np.asarray(effect_mean, dtype=np.float64)
    sd = np.asarray(effect_sd, dtype=np.float64)
    if mode == "explain":
        indices, breakdown = _explain(library, deal, k, mean, rules, policy, excluded)
        ranking = DealRanking(indices, breakdown.total[indices], np.ones(len(indices)),
                              np.zeros(len(indices), dtype=bool), "explain", None,
                              int((library.recommendable & ~excluded).sum()))
    else:
        served = policy.serve(library, deal, k, mean, sd, rules.boost, rules.include,
                              excluded, seed)
        breakdown = served.breakdown
        ranking = DealRanking(served.indices, served.scores, np.asarray(served.propensities),
                              np.asarray(served.explored), served.served_by, served.seed,
                              served.eligible_count)
    _order_for_display(ranking, breakdown, rules.include)
    _explain_items(ranking, library, deal, breakdown, mean, sd, rules, policy, learned)
    return ranking


def _explain(library: LibraryArrays, deal: DealContext, k: int, mean: np.ndarray,
             rules: RuleEffects, policy: ThompsonPolicy,
             excluded: np.ndarray) -> tuple[np.ndarray, ScoreBreakdown]:
    """Return the deterministic list at the posterior mean: best inclusions, then the rest."""
    eligible = ~excluded
    rest, breakdown = rank_indices(library, deal, k, mean, policy.weights, rules.boost,
                                   eligible=eligible & ~rules.include)
    inc = np.flatnonzero(rules.include & eligible & library.recommendable)
    inc = inc[np.argsort(-breakdown.total[inc], kind="stable")][:k]
    return np.concatenate([inc, rest[: k - len(inc)]]).astype(np.int64), breakdown


def _order_for_display(ranking: DealRanking, breakdown: ScoreBreakdown,
                       include: np.ndarray) -> None:
    """Put rule inclusions first, then the rest by score (stable), in place."""
    indices = np.asarray(ranking.indices, dtype=np.int64)
    order = np.lexsort((-breakdown.total[indices], ~include[indices]))
    ranking.indices = indices[order]
    ranking.scores = breakdown.total[ranking.indices]
    ranking.propensities = ranking.propensities[order]
    ranking.explored = ranking.explored[order]


def _explain_items(ranking: DealRanking, library: LibraryArrays, deal: DealContext,
                   breakdown: ScoreBreakdown, mean: np.ndarray, sd: np.ndarray,
                   rules: RuleEffects, policy: ThompsonPolicy, learned: bool) -> None:
    """Fill each item's quoted passage and reasons, in place."""
    for position, i in enumerate(ranking.indices.tolist()):
        passage, passage_score = library.best_passage(i, deal.vector)
        ranking.passages.append(passage)
        ranking.reasons.append(reasons_for(
            library, deal, i, breakdown, float(mean[i]), float(sd[i]), policy.weights,
            rules.names_for(i), bool(ranking.explored[position]), passage, passage_score,
            learned=learned))
