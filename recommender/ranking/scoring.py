"""Ranking: one documented scoring function and MMR diversity.

The score of asset *a* for a deal in buying stage *s* is

    score(a) = w_stage    * stage_fit(a)        # 1 same stage, ``adjacent`` next stage, 0 else,
                                                #   times the tag's confidence (1 when given)
             + w_semantic * semantic(a)         # max cosine of the deal's context vector and
                                                #   the asset's passages (clipped at 0)
             + w_tags     * tag_match(a)        # persona / industry / product: 1 listed,
                                                #   0.5 generic (no tags), 0 other values only
             + w_effect   * effect(a)           # learned change in the chance to advance at s
                                                #   (posterior draw, or mean in explain mode)
             + boost(a)                         # marketer rules (``recommender.ranking.rules``)
             - w_shared   * already_shared(a)   # demote what the deal already received
             - w_unhelpful * marked_not_helpful(a)  # a rep said it did not help this deal

Expired / archived assets and rule exclusions are never eligible. The list is then chosen
greedily by maximal marginal relevance over asset vectors (score minus ``diversity`` times the
highest cosine to what is already chosen) with at most ``max_per_type`` assets of one type,
relaxed only when nothing else is left. Greedy MMR is prefix-consistent: the first *j* items of
a list of *k* are the list of *j*, which ``recommender.ranking.policy`` uses for exact ε-mixtures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from recommender.content.library_arrays import LibraryArrays, as_list
from recommender.errors import ValidationError

__all__ = ["DealContext", "RankingWeights", "ScoreBreakdown", "mmr_select", "rank",
           "rank_indices", "score_assets", "top_pool"]


@dataclass(frozen=True)
class RankingWeights:
    """Weights of the scoring function and the diversity settings (see the module docstring)."""

    stage: float = 1.0
    adjacent: float = 0.35
    semantic: float = 1.0
    tags: float = 0.5
    effect: float = 4.0
    shared: float = 1.5
    not_helpful: float = 2.0
    diversity: float = 0.5
    max_per_type: int = 2
    evidence_sd: float = 0.04  # a posterior sd at or above this means "not enough evidence yet"
    quote_threshold: float = 0.2  # semantic match worth quoting in the reasons


DEFAULT_WEIGHTS = RankingWeights()


@dataclass
class DealContext:
    """What ranking knows about the deal.

    ``vector`` is the unit embedding (d,) of the deal's context text (notes, industry, persona,
    products, titles of what it received); ``shared_on`` maps asset ids already shared to the
    deal to the date they were shared, ``not_helpful_on`` those a rep marked not helpful.
    """

    buying_stage: str
    buying_stages: Sequence[str]
    vector: np.ndarray | None = None
    industry: str = ""
    persona: str = ""
    products: Sequence[str] = ()
    shared_on: Mapping[str, date | datetime] = field(default_factory=dict)
    not_helpful_on: Mapping[str, date | datetime] = field(default_factory=dict)
    semantic: np.ndarray | None = None  # (n,) precomputed ``LibraryArrays.semantic(vector)``

    def __post_init__(self) -> None:
        if self.buying_stage not in self.buying_stages:
            raise ValidationError(
                f"buying stage {self.buying_stage!r} is not one of {', '.join(self.buying_stages)}"
            )


@dataclass
class ScoreBreakdown:
    """Per-asset components of the score, each of shape (n,); ``total`` is their weighted sum."""

    stage_fit: np.ndarray
    semantic: np.ndarray
    tags: np.ndarray
    effect: np.ndarray
    boost: np.ndarray
    shared: np.ndarray
    not_helpful: np.ndarray
    base: np.ndarray  # total without the effect term (the policy adds effect draws to it)
    total: np.ndarray


def score_assets(library: LibraryArrays, deal: DealContext, effect: np.ndarray,
                 weights: RankingWeights = DEFAULT_WEIGHTS,
                 boost: np.ndarray | None = None) -> ScoreBreakdown:
    """Score every asset for the deal with the documented scoring function.

    Parameters
    ----------
    library : LibraryArrays
        The library, n assets.
    deal : DealContext
    effect : ndarray, shape (n,)
        Effect of each asset at the deal's stage in probability units (a posterior draw for
        Thompson sampling, the posterior mean for a deterministic explanation).
    weights : RankingWeights
    boost : ndarray, shape (n,), optional
        Additive rule boosts.

    Returns
    -------
    ScoreBreakdown
        Components and ``total`` (n,). Eligibility (expired, excluded) is not applied here.
    """
    n = len(library)
    effect = np.asarray(effect, dtype=np.float64)
    if effect.shape != (n,):
        raise ValidationError(f"effect has shape {effect.shape}, expected ({n},)")
    target = list(deal.buying_stages).index(deal.buying_stage)
    distance = np.abs(library.stage_positions(deal.buying_stages) - target)
    fit = np.where(distance == 0, 1.0, np.where(distance == 1, weights.adjacent, 0.0))
    fit = fit * library.stage_confidence

    semantic = library.semantic(deal.vector) if deal.semantic is None else deal.semantic

    wanted = {"personas": as_list(deal.persona), "industries": as_list(deal.industry),
              "products": as_list(deal.products)}
    parts = []
    for dimension, values in wanted.items():
        if not values:
            continue
        listed = library.tag_mask(dimension, values)
        generic = ~library.has_tags(dimension)
        parts.append(np.where(listed, 1.0, np.where(generic, 0.5, 0.0)))
    tags = np.mean(parts, axis=0) if parts else np.zeros(n)

    shared = _flags(library, deal.shared_on)
    not_helpful = _flags(library, deal.not_helpful_on)
    boost = np.zeros(n) if boost is None else np.asarray(boost, dtype=np.float64)

    base = (weights.stage * fit + weights.semantic * semantic + weights.tags * tags + boost
            - weights.shared * shared - weights.not_helpful * not_helpful)
    total = base + weights.effect * effect
    return ScoreBreakdown(fit, semantic, tags, effect, boost, shared, not_helpful, base, total)


def _flags(library: LibraryArrays, ids) -> np.ndarray:
    flags = np.zeros(len(library), dtype=bool)
    for asset_id in ids:
        i = library.position.get(asset_id)
        if i is not None:
            flags[i] = True
    return flags


def mmr_select(scores: np.ndarray, similarity: np.ndarray, type_codes: np.ndarray, k: int,
               diversity: float = DEFAULT_WEIGHTS.diversity,
               max_per_type: int = DEFAULT_WEIGHTS.max_per_type,
               initial_similarity: np.ndarray | None = None,
               initial_type_counts: np.ndarray | None = None) -> np.ndarray:
    """Pick ``k`` items greedily by maximal marginal relevance, for one or many score rows.

    Parameters
    ----------
    scores : ndarray, shape (P,) or (D, P)
        Scores of P pool items; -inf marks an ineligible item. D rows are D independent draws.
    similarity : ndarray, shape (P, P)
        Cosine similarity between pool items.
    type_codes : ndarray of int, shape (P,)
    k : int
    diversity : float
        Weight of the highest similarity to an already chosen item.
    max_per_type : int
        Cap per type; exceeded only when no other eligible item is left. 0 disables it.
    initial_similarity : ndarray, shape (P,), optional
        Highest similarity of each item to items chosen before (e.g. rule inclusions).
    initial_type_counts : ndarray of int, shape (T,), optional

    Returns
    -------
    ndarray of int, shape (k,) or (D, k)
        Chosen pool positions in order; -1 where fewer than ``k`` items were eligible.
    """
    single = scores.ndim == 1
    s = np.atleast_2d(np.asarray(scores, dtype=np.float64)).copy()
    d_rows, p = s.shape
    n_types = int(type_codes.max()) + 1 if p else 1
    counts = np.zeros((d_rows, n_types), dtype=np.int64)
    if initial_type_counts is not None and len(initial_type_counts):
        m = min(n_types, len(initial_type_counts))
        counts[:, :m] += np.asarray(initial_type_counts[:m], dtype=np.int64)
    max_sim = np.full((d_rows, p), -np.inf if initial_similarity is None else 0.0)
    if initial_similarity is not None:
        max_sim[:] = np.asarray(initial_similarity, dtype=np.float64)
    chosen = np.full((d_rows, k), -1, dtype=np.int64)
    rows = np.arange(d_rows)
    for step in range(min(k, p)):
        penalty = np.where(np.isfinite(max_sim), diversity * np.maximum(max_sim, 0.0), 0.0)
        value = s - penalty
        if max_per_type > 0:
            over = counts[:, type_codes] >= max_per_type
            value = np.where(over & np.isfinite(value), value - 1e9, value)
        pick = np.argmax(value, axis=1)
        ok = np.isfinite(value[rows, pick])
        chosen[ok, step] = pick[ok]
        s[rows, pick] = -np.inf
        counts[rows[ok], type_codes[pick[ok]]] += 1
        sims = similarity[pick]  # (D, P)
        max_sim = np.where(np.isfinite(max_sim), np.maximum(max_sim, sims), sims)
    return chosen[0] if single else chosen


def top_pool(scores: np.ndarray, eligible: np.ndarray, size: int) -> np.ndarray:
    """Return indices of the ``size`` highest eligible scores (unordered), via argpartition."""
    idx = np.flatnonzero(eligible)
    if len(idx) <= size:
        return idx
    part = np.argpartition(-scores[idx], size - 1)[:size]
    return idx[part]


def rank_indices(library: LibraryArrays, deal: DealContext, k: int, effect: np.ndarray,
                 weights: RankingWeights = DEFAULT_WEIGHTS, boost: np.ndarray | None = None,
                 eligible: np.ndarray | None = None,
                 pool_size: int = 200) -> tuple[np.ndarray, ScoreBreakdown]:
    """Rank the library for the deal: scores, eligibility, then MMR with a type cap.

    Parameters
    ----------
    library : LibraryArrays
    deal : DealContext
    k : int
        Number of results.
    effect : ndarray, shape (n,)
        Effect values (posterior mean for a deterministic ranking).
    weights, boost
        As in ``score_assets``.
    eligible : ndarray of bool, shape (n,), optional
        Extra filter (e.g. not excluded by a rule); combined with ``recommendable``.
    pool_size : int
        MMR runs over the ``pool_size`` best eligible scores.

    Returns
    -------
    indices : ndarray of int64, shape (<= k,)
        Rows of the chosen assets, in MMR order.
    breakdown : ScoreBreakdown
        Components for all n assets.
    """
    if k < 1:
        raise ValidationError(f"k must be at least 1, got {k}")
    breakdown = score_assets(library, deal, effect, weights, boost)
    mask = library.recommendable.copy()
    if eligible is not None:
        mask &= np.asarray(eligible, dtype=bool)
    pool = top_pool(breakdown.total, mask, max(pool_size, k))
    if len(pool) == 0:
        return np.zeros(0, dtype=np.int64), breakdown
    vecs = library.asset_vectors[pool]
    picks = mmr_select(breakdown.total[pool], vecs @ vecs.T, library.type_codes[pool], k,
                       weights.diversity, weights.max_per_type)
    return pool[picks[picks >= 0]].astype(np.int64), breakdown


def rank(library: LibraryArrays, deal: DealContext, k: int, effect: np.ndarray,
         weights: RankingWeights = DEFAULT_WEIGHTS, boost: np.ndarray | None = None,
         eligible: np.ndarray | None = None, pool_size: int = 200):
    """Rank the library for the deal, as ``rank_indices`` does, by asset id.

    Returns
    -------
    ids : ndarray of str, shape (<= k,)
    scores : ndarray of float, shape (<= k,)
    breakdown : ScoreBreakdown
        Components for all n assets (index with ``library.position``).
    """
    chosen, breakdown = rank_indices(library, deal, k, effect, weights, boost, eligible,
                                     pool_size)
    return library.asset_ids[chosen], breakdown.total[chosen], breakdown
