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

from recommender.errors import ValidationError
from recommender.ranking.scoring import (
    DEFAULT_WEIGHTS,
    Candidates,
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
    """A served list: ``indices`` into the candidates, in display order, with per-item data.

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

    def serve(self, candidates: Candidates, deal: DealContext, k: int, effect_mean: np.ndarray,
              effect_sd: np.ndarray, boost: np.ndarray | None = None,
              include: np.ndarray | None = None, exclude: np.ndarray | None = None,
              seed: int | None = None) -> ServedList:
        """Serve one list of up to ``k`` assets and the propensity of every asset.

        Parameters
        ----------
        candidates : Candidates (n assets)
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
        n = len(candidates)
        mean = np.asarray(effect_mean, dtype=np.float64)
        sd = np.asarray(effect_sd, dtype=np.float64)
        if mean.shape != (n,) or sd.shape != (n,):
            raise ValidationError(f"effect posterior must have shape ({n},)")
        seed = new_seed() if seed is None else int(seed)
        rng = np.random.default_rng(seed)
        w = self.weights
        breakdown = score_assets(candidates, deal, mean, w, boost)
        eligible = candidates.recommendable.copy()
        if exclude is not None:
            eligible &= ~np.asarray(exclude, dtype=bool)
        inc_mask = np.zeros(n, dtype=bool) if include is None else np.asarray(include, bool)
        inc = np.flatnonzero(inc_mask & eligible)
        inc = inc[np.argsort(-breakdown.total[inc], kind="stable")][:k]
        rest = eligible.copy()
        rest[inc_mask] = False
        rest_idx = np.flatnonzero(rest)
        slots = k - len(inc)
        big_n = len(rest_idx)
        prop_all = np.zeros(n)
        prop_all[inc] = 1.0

        served_by = "thompson"
        picks = np.zeros(0, dtype=np.int64)
        explored = np.zeros(0, dtype=bool)
        if slots > 0 and big_n > 0:
            if big_n <= slots:
                picks = rest_idx[np.argsort(-breakdown.total[rest_idx], kind="stable")]
                explored = np.zeros(len(picks), dtype=bool)
                prop_all[rest_idx] = 1.0
            else:
                optimistic = breakdown.base + w.effect * (mean + 3.0 * sd)
                pool = top_pool(optimistic, rest, max(self.pool_size, slots))
                vecs = candidates.vectors[pool]
                sim = vecs @ vecs.T
                init_sim = None
                if len(inc):
                    init_sim = (vecs @ candidates.vectors[inc].T).max(axis=1)
                init_counts = np.bincount(candidates.type_codes[inc],
                                          minlength=candidates.n_types)
                types = candidates.type_codes[pool]

                def thompson(z: np.ndarray) -> np.ndarray:
                    draws = breakdown.base[pool] + w.effect * (mean[pool] + sd[pool] * z)
                    return mmr_select(draws, sim, types, slots, w.diversity, w.max_per_type,
                                      init_sim, init_counts)

                if rng.random() < self.holdout:
                    served_by = "holdout"
                    picks = rng.choice(rest_idx, size=slots, replace=False)
                    picks = picks[np.argsort(-breakdown.total[picks], kind="stable")]
                    explored = np.ones(slots, dtype=bool)
                else:
                    chosen = thompson(rng.standard_normal(len(pool)))
                    n_explore = int(rng.binomial(slots, self.exploration))
                    kept = pool[chosen[chosen >= 0][: slots - n_explore]]
                    left_mask = rest.copy()
                    left_mask[kept] = False
                    left = np.flatnonzero(left_mask)
                    filled = rng.choice(left, size=min(n_explore, len(left)), replace=False)
                    picks = np.concatenate([kept, filled]).astype(np.int64)
                    explored = np.r_[np.zeros(len(kept), bool), np.ones(len(filled), bool)]
                batch = thompson(rng.standard_normal((self.n_draws, len(pool))))
                outside, in_pool = self._mixture(batch, pool, big_n, slots)
                prop_all[rest_idx] = outside
                prop_all[pool] = in_pool

        indices = np.concatenate([inc, picks]).astype(np.int64)
        explored_all = np.r_[np.zeros(len(inc), bool), explored]
        propensities = prop_all[indices]
        if len(indices):
            # Monte-Carlo can miss a rare draw that was served; never log a zero propensity.
            propensities = np.maximum(propensities, 0.5 / self.n_draws)
        return ServedList(indices, breakdown.total[indices], propensities, explored_all,
                          served_by, seed, self.version, int(eligible.sum()), breakdown,
                          prop_all)

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
