"""Off-policy evaluation of a ranking policy from logged recommendation lists.

Setting
-------
Each logged *list* ``l`` was served in a context ``x_l`` (a deal at a buying stage) by a logging
policy ``pi_0``; every shown item ``i`` carries its *marginal* propensity
``p_i = P_{pi_0}(item a_i is in the list | x_l)`` and an item-level reward ``r_i``. The target
policy ``pi_e`` gives each candidate item ``j`` its marginal inclusion probability
``pi_e(j | x_l)`` (0/1 for a deterministic ranking). When an item's reward depends only on the
context and the item (not on which other items share the list: the "independence" assumption
of Li et al. 2018, "Offline evaluation of ranking policies with click models"), the value of a
policy, the expected total reward per list, is

    V(pi) = E_x [ sum_j pi(j | x) q(x, j) ]

and importance weighting item by item is unbiased for it (*independent IPS*):

    IPS   = 1/L sum_l sum_{i in l} w_i r_i,                 w_i = min(pi_e(a_i|x_l) / p_i, clip)
    SNIPS = (sum w r / sum w) * 1/L sum_l K_l,             K_l = sum_j pi_e(j | x_l)
    DR    = 1/L sum_l [ sum_j pi_e(j|x_l) q^(x_l, j) + sum_{i in l} w_i (r_i - q^(x_l, a_i)) ]

``E_0[sum_i w_i] = K_l`` (without clipping) is what makes the self-normalised form consistent.
The doubly robust estimate uses a reward model ``q^`` per item key (e.g. asset × buying stage):
a shrunk mean reward, cross-fitted over folds of clusters so a list's own rewards never enter its
own ``q^`` (Chernozhukov et al. 2018). Clipping trades variance for a downward bias; the number of
clipped weights and the effective sample size ``(sum w)^2 / sum w^2`` are reported so a reader can
judge overlap.

Intervals resample whole clusters (e.g. opportunities: lists of one deal are not independent)
with a bootstrap, or use the delta method on the cluster sums (``interval="normal"``).

Plain numpy in, plain dataclasses out; no database, no web.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm

from recommender.errors import ValidationError
from recommender.learning.logged_lists import LoggedLists

ESTIMATORS: tuple[str, ...] = ("ips", "snips", "dr")
INTERVALS: tuple[str, ...] = ("bootstrap", "normal")


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


@dataclass(frozen=True)
class Estimate:
    """One estimator's value of the target policy (expected reward per list) and interval."""

    estimator: str
    value: float
    lower: float
    upper: float
    se: float

    def to_dict(self) -> dict:
        """Plain JSON-safe values (an undefined number, e.g. no variance estimate, is None)."""
        return {"estimator": self.estimator, "value": _finite(self.value),
                "lower": _finite(self.lower), "upper": _finite(self.upper),
                "se": _finite(self.se)}


@dataclass
class OPEResult:
    """Estimates of the target policy next to the logging policy's own (on-policy) value."""

    estimates: list[Estimate]
    logging: Estimate
    n_lists: int
    n_items: int
    n_clusters: int
    effective_sample_size: float
    max_weight: float
    clipped: int
    clip: float | None
    zero_weight_share: float
    target_items_per_list: float
    level: float
    interval: str
    notes: list[str] = field(default_factory=list)

    def estimate(self, name: str) -> Estimate:
        for est in self.estimates:
            if est.estimator == name:
                return est
        raise KeyError(name)

    def to_dict(self) -> dict:
        return {
            "estimates": [e.to_dict() for e in self.estimates],
            "logging_policy": self.logging.to_dict(),
            "n_lists": self.n_lists, "n_items": self.n_items, "n_clusters": self.n_clusters,
            "effective_sample_size": self.effective_sample_size,
            "max_weight": self.max_weight, "clipped": self.clipped, "clip": self.clip,
            "zero_weight_share": self.zero_weight_share,
            "target_items_per_list": self.target_items_per_list,
            "level": self.level, "interval": self.interval, "notes": list(self.notes),
        }


def importance_weights(target_propensity: np.ndarray, logging_propensity: np.ndarray,
                       clip: float | None = None) -> tuple[np.ndarray, int]:
    """Return clipped weights ``min(pi_e / pi_0, clip)`` and how many were clipped.

    Parameters
    ----------
    target_propensity, logging_propensity : ndarray, shape (n,)
    clip : float, optional
        Largest weight kept; None keeps all (unbiased, possibly high variance).
    """
    w = np.asarray(target_propensity, float) / np.asarray(logging_propensity, float)
    if clip is None:
        return w, 0
    if clip <= 0:
        raise ValidationError(f"clip={clip} must be positive")
    clipped = int((w > clip).sum())
    return np.minimum(w, clip), clipped


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (0 when every weight is 0)."""
    w = np.asarray(weights, float)
    denom = float((w * w).sum())
    return float(w.sum() ** 2 / denom) if denom > 0 else 0.0


def crossfit_reward_model(keys: np.ndarray, rewards: np.ndarray, folds: np.ndarray,
                          strength: float = 10.0) -> list[dict]:
    """Fit a shrunk mean reward per key on all folds but one, for each fold.

    Parameters
    ----------
    keys : ndarray of int, shape (n,)
        Integer code of each logged item's key.
    rewards : ndarray, shape (n,)
    folds : ndarray of int, shape (n,)
        Fold of each row, 0..F-1.
    strength : float
        Pseudo-count of the prior (the fold's overall mean reward).

    Returns
    -------
    list of dict, length F
        ``tables[f]`` maps key code -> estimate fitted without fold ``f``, plus ``None`` ->
        the prior used for keys never seen outside ``f``.
    """
    tables = []
    n_folds = int(folds.max()) + 1 if len(folds) else 1
    for f in range(n_folds):
        train = folds != f
        if not train.any():
            train = np.ones(len(folds), bool)
        prior = float(rewards[train].mean())
        sums = np.bincount(keys[train], weights=rewards[train])
        counts = np.bincount(keys[train])
        seen = np.flatnonzero(counts)
        table: dict = {int(k): float((sums[k] + strength * prior) / (counts[k] + strength))
                       for k in seen}
        table[None] = prior
        tables.append(table)
    return tables


def _ratio_interval(num: np.ndarray, den_terms: list[tuple[np.ndarray, int]], level: float,
                    interval: str, boot_counts: np.ndarray | None) -> tuple[float, float, float]:
    """Interval of ``prod(sum num_k^s_k)`` style ratios over cluster sums.

    ``num`` is the leading numerator; ``den_terms`` lists further cluster-sum arrays with their
    exponent (+1 numerator, -1 denominator).
    """
    terms = [(num, 1), *den_terms]
    sums = [float(t.sum()) for t, _ in terms]
    if any(s == 0 for s, (_, e) in zip(sums, terms, strict=True) if e < 0):
        return float("nan"), float("nan"), float("nan")
    value = float(np.prod([s ** e for s, (_, e) in zip(sums, terms, strict=True)]))
    c = len(num)
    if interval == "normal" or boot_counts is None:
        if sums[0] == 0:
            # Log-derivative is undefined at 0: fall back to the spread of the leading term.
            infl = num * float(np.prod([s ** e for s, (_, e) in
                                        zip(sums[1:], terms[1:], strict=True)]))
            infl = infl - infl.mean()
        else:
            infl = value * np.sum([e * t / s for s, (t, e) in zip(sums, terms, strict=True)],
                                  axis=0)
        se = float(np.sqrt(c / max(c - 1, 1) * (infl ** 2).sum())) if c > 1 else float("nan")
        z = float(norm.ppf(0.5 + level / 2))
        return value - z * se, value + z * se, se
    stats = np.ones(boot_counts.shape[0])
    for t, e in terms:
        s = boot_counts @ t
        with np.errstate(divide="ignore", invalid="ignore"):
            stats = stats * (s ** e)
    stats = stats[np.isfinite(stats)]
    if len(stats) < 2:
        return float("nan"), float("nan"), float("nan")
    lo, hi = np.quantile(stats, [0.5 - level / 2, 0.5 + level / 2])
    return float(lo), float(hi), float(stats.std(ddof=1))


def evaluate_policy(logged: LoggedLists, clip: float | None = None,
                    estimators: Sequence[str] = ESTIMATORS, interval: str = "bootstrap",
                    n_boot: int = 500, level: float = 0.9, n_folds: int = 5,
                    reward_prior_strength: float = 10.0, seed: int = 0) -> OPEResult:
    """Estimate the target policy's value (expected reward per list) from logged lists.

    Parameters
    ----------
    logged : LoggedLists (n shown items in L lists)
    clip : float, optional
        Largest importance weight kept (None: no clipping).
    estimators : sequence of {"ips", "snips", "dr"}
    interval : {"bootstrap", "normal"}
        Cluster bootstrap (percentile) or delta-method normal interval.
    n_boot : int
        Bootstrap resamples.
    level : float
        Interval coverage, e.g. 0.9.
    n_folds : int
        Cross-fitting folds of the doubly robust reward model (split by cluster).
    reward_prior_strength : float
        Pseudo-count shrinking each key's mean reward to the overall mean.
    seed : int

    Returns
    -------
    OPEResult
    """
    _check_options(estimators, interval, level)
    rng = np.random.default_rng(seed)
    idx = np.asarray(logged.list_index, dtype=np.int64)
    r = np.asarray(logged.rewards, dtype=np.float64)
    p = np.asarray(logged.propensities, dtype=np.float64)
    n_lists = logged.n_lists

    key_codes: dict = {}
    keys = np.array([key_codes.setdefault(k, len(key_codes)) for k in logged.item_keys],
                    dtype=np.int64)
    pi_e = np.array([logged.target[l_].get(k, 0.0) for l_, k in zip(idx, logged.item_keys,
                                                                    strict=True)])
    w, clipped = importance_weights(pi_e, p, clip)
    k_target = np.array([float(sum(t.values())) for t in logged.target])
    cluster_of_list = _cluster_of_list(logged)
    sums = _ClusterSums.of(cluster_of_list, idx, w, r, k_target)

    boot = None
    if interval == "bootstrap":
        n = sums.n_clusters
        boot = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)
    dr_c = None
    if "dr" in estimators:
        dr_list = _dr_terms(logged, idx, keys, key_codes, r, w, cluster_of_list, n_folds,
                            reward_prior_strength, np.random.default_rng([seed, 1]))
        dr_c = _per_cluster(dr_list, cluster_of_list, sums.n_clusters)
    estimates = [_estimate(name, sums, dr_c, level, interval, boot) for name in estimators]
    lo, hi, se = _ratio_interval(sums.rewards, [(sums.lists, -1)], level, interval, boot)
    logging_value = Estimate("on-policy", float(r.sum() / n_lists), lo, hi, se)
    zero_share = float((w == 0).mean())
    return OPEResult(
        estimates=estimates, logging=logging_value, n_lists=n_lists, n_items=len(r),
        n_clusters=sums.n_clusters, effective_sample_size=effective_sample_size(w),
        max_weight=float(w.max()), clipped=clipped, clip=clip, zero_weight_share=zero_share,
        target_items_per_list=float(k_target.mean()), level=level, interval=interval,
        notes=_overlap_notes(zero_share, clipped, clip),
    )


def _check_options(estimators: Sequence[str], interval: str, level: float) -> None:
    unknown = [e for e in estimators if e not in ESTIMATORS]
    if unknown:
        raise ValidationError(f"unknown estimator {unknown[0]!r}; expected one of "
                              f"{', '.join(ESTIMATORS)}")
    if interval not in INTERVALS:
        raise ValidationError(f"unknown interval {interval!r}; expected one of "
                              f"{', '.join(INTERVALS)}")
    if not 0 < level < 1:
        raise ValidationError(f"level={level} must be within (0, 1)")


def _cluster_of_list(logged: LoggedLists) -> np.ndarray:
    """Cluster code (0..C-1) of each list; each list is its own cluster when none are given."""
    raw_clusters = (np.arange(logged.n_lists) if logged.clusters is None
                    else np.asarray(logged.clusters))
    _, cluster_of_list = np.unique(raw_clusters, return_inverse=True)
    return cluster_of_list


@dataclass(frozen=True)
class _ClusterSums:
    """Per-cluster sums the estimators are ratios of, shape (C,) each."""

    n_clusters: int
    lists: np.ndarray  # lists
    weighted_rewards: np.ndarray  # sum of w r
    weights: np.ndarray  # sum of w
    target_sizes: np.ndarray  # sum of K_l
    rewards: np.ndarray  # sum of r

    @classmethod
    def of(cls, cluster_of_list: np.ndarray, idx: np.ndarray, w: np.ndarray, r: np.ndarray,
           k_target: np.ndarray) -> _ClusterSums:
        n = int(cluster_of_list.max()) + 1
        of_item = cluster_of_list[idx]
        return cls(n_clusters=n,
                   lists=np.bincount(cluster_of_list, minlength=n).astype(float),
                   weighted_rewards=_per_cluster(w * r, of_item, n),
                   weights=_per_cluster(w, of_item, n),
                   target_sizes=_per_cluster(k_target, cluster_of_list, n),
                   rewards=_per_cluster(r, of_item, n))


def _per_cluster(values: np.ndarray, cluster: np.ndarray, n_clusters: int) -> np.ndarray:
    return np.bincount(cluster, weights=values, minlength=n_clusters)


def _estimate(name: str, sums: _ClusterSums, dr_c: np.ndarray | None, level: float,
              interval: str, boot: np.ndarray | None) -> Estimate:
    """One estimator's value and interval from the cluster sums (``dr_c``: DR terms)."""
    wr_c, lists_c = sums.weighted_rewards, sums.lists
    if name == "ips":
        lo, hi, se = _ratio_interval(wr_c, [(lists_c, -1)], level, interval, boot)
        value = float(wr_c.sum() / lists_c.sum())
    elif name == "snips":
        w_c, k_c = sums.weights, sums.target_sizes
        lo, hi, se = _ratio_interval(wr_c, [(w_c, -1), (k_c, 1), (lists_c, -1)], level,
                                     interval, boot)
        value = (float(wr_c.sum() / w_c.sum() * k_c.sum() / lists_c.sum())
                 if w_c.sum() > 0 else float("nan"))
    else:
        assert dr_c is not None
        lo, hi, se = _ratio_interval(dr_c, [(lists_c, -1)], level, interval, boot)
        value = float(dr_c.sum() / lists_c.sum())
    return Estimate(name, value, lo, hi, se)


def _overlap_notes(zero_share: float, clipped: int, clip: float | None) -> list[str]:
    """Warnings a reader needs to judge the overlap of the two policies."""
    notes = []
    if zero_share > 0.95:
        notes.append(f"{zero_share:.0%} of logged items have weight 0: the target policy "
                     "rarely shows what was logged; estimates rest on few items")
    if clipped:
        notes.append(f"{clipped} weights clipped at {clip:g} (biases IPS/SNIPS/DR downwards)")
    return notes


def _dr_terms(logged: LoggedLists, idx: np.ndarray, keys: np.ndarray, key_codes: dict,
              r: np.ndarray, w: np.ndarray, cluster_of_list: np.ndarray, n_folds: int,
              strength: float, rng: np.random.Generator) -> np.ndarray:
    """Per-list doubly robust term: direct model value plus weighted residuals, cross-fitted."""
    n_clusters = int(cluster_of_list.max()) + 1
    fold_of_cluster = rng.permutation(n_clusters) % max(1, min(n_folds, n_clusters))
    fold_of_list = fold_of_cluster[cluster_of_list]
    fold_of_item = fold_of_list[idx]
    tables = crossfit_reward_model(keys, r, fold_of_item, strength)

    def q(table: dict, key: Hashable) -> float:
        code = key_codes.get(key)
        return table.get(code, table[None]) if code is not None else table[None]

    q_logged = np.array([q(tables[f], k) for f, k in zip(fold_of_item, logged.item_keys,
                                                         strict=True)])
    direct = np.array([sum(prob * q(tables[fold_of_list[l_]], key)
                           for key, prob in target.items())
                       for l_, target in enumerate(logged.target)])
    residual = np.bincount(idx, weights=w * (r - q_logged), minlength=logged.n_lists)
    return direct + residual
