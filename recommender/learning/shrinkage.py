"""Empirical-Bayes shrinkage of per-asset effect estimates (normal-normal).

Per buying stage, the adjusted estimates ``x_j`` with standard errors ``se_j`` are pooled with
DerSimonian-Laird: a mean ``mu`` and a between-asset sd ``tau`` (floored at ``TAU_FLOOR``), for
the assets tagged with this stage ("native"), the others, and untagged ones separately. Each
asset's prior mean is its type's mean in that level (leave-one-out, itself pooled towards
``mu``), with variance ``tau^2`` plus the uncertainty of that mean. The posterior is the usual
precision-weighted average. The per-type priors are the cold-start priors of new assets.
"""

from __future__ import annotations

import numpy as np

TAU_FLOOR = 0.02  # smallest between-asset sd (probability units) the shrinkage assumes


def pool(x: np.ndarray, se: np.ndarray) -> tuple[float, float, float]:
    """DerSimonian-Laird pooled mean, between-asset sd and the variance of that mean."""
    if x.size == 0:
        return 0.0, 0.05, 0.0
    w = 1.0 / np.square(se)
    mu_fe = float((w * x).sum() / w.sum())
    tau2 = float(np.var(x)) if x.size < 3 else max(0.0, (
        float((w * np.square(x - mu_fe)).sum()) - (x.size - 1))
        / (w.sum() - np.square(w).sum() / w.sum()))
    tau = max(np.sqrt(tau2), TAU_FLOOR)
    wr = 1.0 / (np.square(se) + tau ** 2)
    return float((wr * x).sum() / wr.sum()), float(tau), float(1.0 / wr.sum())


def shrink(cells: list[dict], types: dict, tagged: dict, stage: str, min_support: int) -> dict:
    """Normal-normal shrinkage of each cell; returns the stage's cold-start priors."""
    main = [c for c in cells if c["segment"] is None]
    ok = [c for c in main if c["raw"] is not None and c["support"] >= min_support
          and c["se"] > 0]

    def nat(c: dict) -> str:
        tag = tagged.get(c["asset_id"])
        return "untagged" if tag is None else ("native" if tag == stage else "other")

    x_all = np.array([c["raw"] for c in ok])
    se_all = np.array([c["se"] for c in ok])
    pooled = pool(x_all, se_all)
    level = {}
    for key in ("native", "other", "untagged"):
        sel = [i for i, c in enumerate(ok) if nat(c) == key]
        level[key] = pool(x_all[sel], se_all[sel]) if len(sel) >= 3 else pooled

    def group_prior(members: list[int], mu: float, tau: float, var_mu: float):
        """Prior (mean, sd) from a type group pooled towards its level's mean."""
        if not members:
            return mu, float(np.sqrt(tau ** 2 + var_mu))
        w = 1.0 / (np.square(se_all[members]) + tau ** 2)
        prec = w.sum() + 1 / (tau ** 2 + var_mu)
        m = ((w * x_all[members]).sum() + mu / (tau ** 2 + var_mu)) / prec
        return float(m), float(np.sqrt(tau ** 2 + 1 / prec))

    ok_ids = [c["asset_id"] for c in ok]
    for c in main:
        t = types.get(c["asset_id"])
        members = [i for i, o in enumerate(ok) if t is not None
                   and types.get(o["asset_id"]) == t and nat(o) == nat(c)
                   and ok_ids[i] != c["asset_id"]]  # leave-one-out
        m, sd = group_prior(members, *level[nat(c)])
        c["prior_mean"], c["prior_sd"] = m, sd
        if c in ok:
            prec = 1 / sd ** 2 + 1 / c["se"] ** 2
            c["mean"] = (m / sd ** 2 + c["raw"] / c["se"] ** 2) / prec
            c["sd"] = float(np.sqrt(1 / prec))
        else:
            c["mean"], c["sd"] = m, sd
    for c in cells:
        if c["segment"] is not None:
            c["mean"], c["sd"] = c["raw"], c["se"]
            c["prior_mean"], c["prior_sd"] = c["raw"], c["se"]
    priors = {"*": list(group_prior([], *pooled))}
    for key, lev in level.items():
        priors[f"*{key}"] = list(group_prior([], *lev))
    for t in sorted({types[c["asset_id"]] for c in ok if c["asset_id"] in types}):
        members = [i for i, o in enumerate(ok) if types.get(o["asset_id"]) == t]
        priors[t] = list(group_prior(members, *pooled))
    return priors
