"""The serving policy: Thompson sampling over the effect posterior, an ε floor and a holdout.

One request is served as follows, all draws from one RNG seeded per request (seed recorded):

1. Rule inclusions take the first slots (deterministic; propensity 1).
2. With probability ``holdout`` the list is a *uniformly random* choice of the remaining ``k'``
   slots among the eligible assets (the randomized exposure holdout).
3. Otherwise one posterior draw ``effect ~ N(mean, sd)`` per asset is scored with
   ``recommender.ranking.scoring.score_assets`` and the list is chosen by MMR (Thompson sampling).
   Then ``E ~ Binomial(k', ε)`` of its last slots are handed to exploration: the first
   ``k' - E`` Thompson picks are kept and ``E`` assets are drawn uniformly from the eligible rest.

Propensity of asset *j* (probability that this policy shows it in the list):

    P(j) = h k'/N + (1 - h) sum_e Binom(e; k', ε) [q_{k'-e}(j) + (1 - q_{k'-e}(j)) e/(N-k'+e)]

where ``N`` is the number of eligible non-included assets and ``q_t(j)`` is the probability that
*j* is among the first ``t`` Thompson picks (greedy MMR is prefix-consistent). ``q_t`` is
estimated from ``n_draws`` vectorised Monte-Carlo re-draws of the same Thompson step; the ε and
holdout mixtures are exact. Thompson sampling runs over a pool of the ``pool_size`` assets with
the best optimistic score (mean + 3 sd), and that pool is part of the policy's definition, so
the propensities describe exactly what is served.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from recommender.content.library_arrays import LibraryArrays
from recommender.errors import ValidationError
from recommender.ranking.scoring import (
    DEFAULT_WEIGHTS,
    DealContext,
    RankingWeights,
    ScoreBreakdown,
    mmr_select,
    score_assets,
    top_pool,
)

POLICY_NAME = "thompson-mmr"
POLICY_REVISION = 1


@dataclass
class ServedList:
    """A served list: ``indices`` into the library, in display order, with per-item data.

    ``scores`` are at the posterior mean (stable, explainable); ``propensities`` the probability
    that the policy shows each item; ``explored`` marks ε / holdout picks. ``propensity_all``
    (n,) holds every asset's propensity (0 for ineligible ones).
    """

    indices: np.ndarray
    scores: np.ndarray
    propensities: np.ndarray
    explored: np.ndarray
    served_by: str
    seed: int
    policy_version: str
    eligible_count: int
    breakdown: ScoreBreakdown
    propensity_all: np.ndarray


def new_seed() -> int:
    """Return a fresh random 63-bit seed (recorded with the list so it can be replayed)."""
    return int(np.random.SeedSequence().entropy) % (2**63)  # type: ignore[arg-type]


class ThompsonPolicy:
    """Thompson sampling with an exploration floor and a randomized holdout.

    Parameters
    ----------
    exploration : float
        ε: expected share of the learned slots handed to uniform exploration.
    holdout : float
        Share of lists served by a uniformly random policy over eligible assets.
    n_draws : int
        Monte-Carlo re-draws used to estimate propensities.
    pool_size : int
        Size of the Thompson pool (best optimistic scores).
    weights : RankingWeights
    """

    def __init__(self, exploration: float = 0.1, holdout: float = 0.1, n_draws: int = 200,
                 pool_size: int = 100, weights: RankingWeights = DEFAULT_WEIGHTS):
        for name, value in (("exploration", exploration), ("holdout", holdout)):
            if not 0.0 <= value <= 1.0:
                raise ValidationError(f"{name}={value} must be within 0..1")
        if n_draws < 1 or pool_size < 1:
            raise ValidationError("n_draws and pool_size must be positive")
        self.exploration = float(exploration)
        self.holdout = float(holdout)
        self.n_draws = int(n_draws)
        self.pool_size = int(pool_size)
        self.weights = weights

    @property
    def version(self) -> str:
        """The policy version recorded with every served list."""
        return (f"{POLICY_NAME}/{POLICY_REVISION};eps={self.exploration:g};"
                f"holdout={self.holdout:g};draws={self.n_draws};pool={self.pool_size}")

    def serve(self, library: LibraryArrays, deal: DealContext, k: int, effect_mean: np.ndarray,
              effect_sd: np.ndarray, boost: np.ndarray | None = None,
              include: np.ndarray | None = None, exclude: np.ndarray | None = None,
              seed: int | None = None) -> ServedList:
        """Serve one list of up to ``k`` assets and the propensity of every asset.

        Parameters
        ----------
        library : LibraryArrays (n assets)
        deal : DealContext
        k : int
        effect_mean, effect_sd : ndarray, shape (n,)
            Effect posterior at the deal's stage.
        boost : ndarray, shape (n,), optional
        include, exclude : ndarray of bool, shape (n,), optional
            Rule inclusions (always shown, best first, at most k) and exclusions (never shown).
        seed : int, optional
            Seed of this request's RNG; a fresh one is drawn (and returned) when None.
        """
        if k < 1:
            raise ValidationError(f"k must be at least 1, got {k}")
        n = len(library)
        mean = np.asarray(effect_mean, dtype=np.float64)
        sd = np.asarray(effect_sd, dtype=np.float64)
        if mean.shape != (n,) or sd.shape != (n,):
            raise ValidationError(f"effect posterior must have shape ({n},)")
        seed = new_seed() if seed is None else int(seed)
        rng = np.random.default_rng(seed)
        breakdown = score_assets(library, deal, mean, self.weights, boost)
        eligible = library.recommendable.copy()
        if exclude is not None:
            eligible &= ~np.asarray(exclude, dtype=bool)
        inc_mask = np.zeros(n, dtype=bool) if include is None else np.asarray(include, bool)
        inc = np.flatnonzero(inc_mask & eligible)
        inc = inc[np.argsort(-breakdown.total[inc], kind="stable")][:k]
        rest = eligible.copy()
        rest[inc_mask] = False
        prop_all = np.zeros(n)
        prop_all[inc] = 1.0
        pool = _ThompsonPool(library, breakdown, mean, sd, self.weights, inc, k - len(inc))
        picks, explored, served_by = self._fill(pool, rest, rng, prop_all)

        indices = np.concatenate([inc, picks]).astype(np.int64)
        explored_all = np.r_[np.zeros(len(inc), bool), explored]
        propensities = prop_all[indices]
        if len(indices):
            # Monte-Carlo can miss a rare draw that was served; never log a zero propensity.
            propensities = np.maximum(propensities, 0.5 / self.n_draws)
        return ServedList(indices, breakdown.total[indices], propensities, explored_all,
                          served_by, seed, self.version, int(eligible.sum()), breakdown,
                          prop_all)

    def _fill(self, pool: _ThompsonPool, rest: np.ndarray, rng: np.random.Generator,
              prop_all: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        """Choose the slots after the inclusions among the ``rest`` (n,) mask.

        Returns the picks, their exploration flags and who served them; writes every
        eligible asset's propensity into ``prop_all`` (n,).
        """
        slots, total = pool.slots, pool.breakdown.total
        rest_idx = np.flatnonzero(rest)
        big_n = len(rest_idx)
        if slots <= 0 or big_n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool), "thompson"
        if big_n <= slots:
            prop_all[rest_idx] = 1.0
            picks = rest_idx[np.argsort(-total[rest_idx], kind="stable")]
            return picks, np.zeros(len(picks), dtype=bool), "thompson"
        pool.build(rest, max(self.pool_size, slots))
        if rng.random() < self.holdout:
            served_by = "holdout"
            picks = rng.choice(rest_idx, size=slots, replace=False)
            picks = picks[np.argsort(-total[picks], kind="stable")]
            explored = np.ones(slots, dtype=bool)
        else:
            served_by = "thompson"
            picks, explored = self._thompson_with_exploration(pool, rest, rng)
        batch = pool.select(rng.standard_normal((self.n_draws, len(pool.rows))))
        outside, in_pool = self._mixture(batch, pool.rows, big_n, slots)
        prop_all[rest_idx] = outside
        prop_all[pool.rows] = in_pool
        return picks, explored, served_by

    def _thompson_with_exploration(self, pool: _ThompsonPool, rest: np.ndarray,
                                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One Thompson list whose last ``Binomial(slots, ε)`` slots go to uniform picks."""
        slots = pool.slots
        chosen = pool.select(rng.standard_normal(len(pool.rows)))
        n_explore = int(rng.binomial(slots, self.exploration))
        kept = pool.rows[chosen[chosen >= 0][: slots - n_explore]]
        left_mask = rest.copy()
        left_mask[kept] = False
        left = np.flatnonzero(left_mask)
        filled = rng.choice(left, size=min(n_explore, len(left)), replace=False)
        picks = np.concatenate([kept, filled]).astype(np.int64)
        explored = np.r_[np.zeros(len(kept), bool), np.ones(len(filled), bool)]
        return picks, explored

    def _mixture(self, batch: np.ndarray, pool: np.ndarray, big_n: int,
                 slots: int) -> tuple[float, np.ndarray]:
        """Exact ε / holdout mixture over Monte-Carlo prefix inclusion probabilities q_t.

        Returns the propensity of every eligible asset outside the pool (q = 0: one number)
        and the (P,) propensities of the pool.
        """
        draws, p = batch.shape[0], len(pool)
        position = np.full((draws, p), slots, dtype=np.int64)
        rows = np.repeat(np.arange(draws), slots)
        cols = batch.ravel()
        ok = cols >= 0
        position[rows[ok], cols[ok]] = np.tile(np.arange(slots), draws)[ok]
        hist = np.stack([(position == t).sum(axis=0) for t in range(slots)], axis=1)
        # q[:, t] = P(in the first t Thompson picks), t = 0..slots
        q = np.concatenate([np.zeros((p, 1)), np.cumsum(hist, axis=1) / draws], axis=1)
        e = np.arange(slots + 1)
        eps = self.exploration
        weights_e = np.asarray([math.comb(slots, j) * eps**j * (1 - eps) ** (slots - j)
                                for j in e])
        taken = slots - e
        fill = np.divide(e, big_n - taken, out=np.zeros(slots + 1), where=(big_n - taken) > 0)
        q_taken = q[:, taken]  # (P, slots+1)
        uniform = self.holdout * slots / big_n
        in_pool = uniform + (1.0 - self.holdout) * (
            (q_taken + (1.0 - q_taken) * fill) * weights_e).sum(axis=1)
        outside = uniform + (1.0 - self.holdout) * float((fill * weights_e).sum())
        return outside, in_pool


class _ThompsonPool:
    """The Thompson step over a pool of the best optimistic scores, for one request.

    ``select(z)`` turns standard-normal draws ``z`` (P,) or (D, P) into MMR picks (pool
    positions), after the rule inclusions ``inc`` already placed.
    """

    def __init__(self, library: LibraryArrays, breakdown: ScoreBreakdown, mean: np.ndarray,
                 sd: np.ndarray, weights: RankingWeights, inc: np.ndarray, slots: int):
        self.library, self.breakdown, self.weights = library, breakdown, weights
        self.mean, self.sd, self.inc, self.slots = mean, sd, inc, slots
        self.rows = np.zeros(0, dtype=np.int64)
        self.similarity: np.ndarray = np.zeros((0, 0))
        self.initial_similarity: np.ndarray | None = None
        self.initial_counts = np.zeros(0, dtype=np.int64)
        self.types = np.zeros(0, dtype=np.int64)

    def build(self, rest: np.ndarray, size: int) -> None:
        """Choose the pool among the ``rest`` (n,) mask and precompute its similarities."""
        library, w = self.library, self.weights
        optimistic = self.breakdown.base + w.effect * (self.mean + 3.0 * self.sd)
        self.rows = top_pool(optimistic, rest, size)
        vecs = library.asset_vectors[self.rows]
        self.similarity = vecs @ vecs.T
        if len(self.inc):
            self.initial_similarity = (vecs @ library.asset_vectors[self.inc].T).max(axis=1)
        self.initial_counts = np.bincount(library.type_codes[self.inc], minlength=library.n_types)
        self.types = library.type_codes[self.rows]

    def select(self, z: np.ndarray) -> np.ndarray:
        """Return MMR picks (pool positions, -1 for none) of the effect draws ``z``."""
        w, rows = self.weights, self.rows
        draws = self.breakdown.base[rows] + w.effect * (self.mean[rows] + self.sd[rows] * z)
        return mmr_select(draws, self.similarity, self.types, self.slots, w.diversity,
                          w.max_per_type, self.initial_similarity, self.initial_counts)
