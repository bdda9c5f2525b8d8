"""One buying stage of the outcome learner: hazard fits and raw, standardised effects.

Steps 2 and 3 of ``recommender.learning.effects`` for one stage: fit the advance and exit hazard
models, then turn each asset's exposure coefficients into the difference in the probability of
advancing within the visit (shared at the start vs never), averaged over reference visits, with
a standard error from one-sd finite differences. Segment cells come from the advance model with
asset × segment interactions. Shrinkage (step 4) happens in ``effects``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from recommender.learning.episodes import ADVANCED, EXITED, Episodes
from recommender.learning.hazard import (
    Design,
    fit_logistic,
    make_design,
    p_advance,
    visit_features,
)


@dataclass(frozen=True)
class StageFitParams:
    """The ``ContentEffectModel`` parameters one stage's fit uses (see its docstring)."""

    max_week: int
    rep_prior_sd: float
    exposure_prior_sd: float
    exit_prior_sd: float
    segment_prior_sd: float
    min_segment_support: int
    n_reference: int
    horizon_weeks: int


@dataclass(frozen=True)
class _Hazards:
    """Coefficients (p,) and posterior covariances of the advance and exit models."""

    beta_a: np.ndarray
    cov_a: np.ndarray
    beta_l: np.ndarray
    cov_l: np.ndarray


def fit_stage(ep: Episodes, s: int, rng: np.random.Generator, params: StageFitParams) -> dict:
    """Fit stage ``s``'s hazard models and compute raw effects per asset (and segment).

    Parameters
    ----------
    ep : Episodes
    s : int
        Index of the buying stage in ``ep.stage_names``.
    rng : numpy Generator
        Draws the reference visits (pooled first, then one set per segment).
    params : StageFitParams

    Returns
    -------
    dict
        ``p0`` (baseline probability of advancing within the visit), ``cells`` (one dict per
        asset, and per asset × segment, with ``raw``, ``se``, ``log_odds``, ``support``,
        ``n_visits``, ``naive``, ``unused``) and ``stage``.
    """
    stage = ep.stage_names[s]
    rows = np.flatnonzero(ep.visit_stage[ep.row_visit] == s)
    visits = np.flatnonzero(ep.visit_stage == s)
    if rows.size == 0 or visits.size == 0:
        return {"p0": 0.0, "cells": []}
    X, design = make_design(ep, rows, max_week=params.max_week,
                            rep_prior_sd=params.rep_prior_sd,
                            exposure_prior_sd=params.exposure_prior_sd,
                            segment_prior_sd=params.segment_prior_sd,
                            min_segment_support=params.min_segment_support)
    ev = ep.row_event[rows]
    hazards = _fit_hazards(X, ev, design, params.exit_prior_sd)
    ref = _reference_visits(visits, params.n_reference, rng)
    eta_a, eta_l = _linear_predictors(ep, ref, design, hazards, params)
    p0 = float(p_advance(eta_a, eta_l).mean())
    exp_rows = ep.exposure[rows].tocsc()
    cells = _pooled_cells(ep, rows, visits, design, hazards, exp_rows, eta_a, eta_l)
    if design.interactions:  # segment effects: the advance model with interactions
        beta_s, cov_s = fit_logistic(X, ev == ADVANCED, design.prior_sd)
        cells += _segment_cells(ep, rows, visits, design, hazards, exp_rows, beta_s, cov_s,
                                rng, params)
    return {"p0": p0, "cells": cells, "stage": stage}


def _fit_hazards(X: sparse.csr_matrix, ev: np.ndarray, design: Design,
                 exit_prior_sd: float) -> _Hazards:
    """Fit the advance and exit models without interaction columns (zero-padded to p)."""
    # Pooled effects come from models without interactions: with a full set of segment
    # interactions the main effect would only be identified through the prior.
    n_main = design.interaction.start
    X_main = X[:, :n_main]
    pad = np.zeros(X.shape[1] - n_main)
    beta_a, cov_a = fit_logistic(X_main, ev == ADVANCED, design.prior_sd[:n_main])
    keep = ev != ADVANCED
    exit_sd = design.prior_sd[:n_main].copy()
    exit_sd[design.exposure] = exit_prior_sd
    beta_l, cov_l = fit_logistic(X_main[keep], ev[keep] == EXITED, exit_sd)
    return _Hazards(np.r_[beta_a, pad], cov_a, np.r_[beta_l, pad], cov_l)


def _reference_visits(visits: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """All ``visits`` when there are at most ``n``, else ``n`` of them drawn without replacement."""
    return visits if visits.size <= n else np.sort(rng.choice(visits, n, replace=False))


def _linear_predictors(ep: Episodes, ref: np.ndarray, design: Design, hazards: _Hazards,
                       params: StageFitParams) -> tuple[np.ndarray, np.ndarray]:
    """Advance and exit log-odds of the reference visits over the horizon, (len(ref), weeks)."""
    F = visit_features(ep, ref, design)
    k = np.minimum(np.arange(params.horizon_weeks), params.max_week)
    wa = np.r_[0.0, hazards.beta_a[design.week]][k]
    wl = np.r_[0.0, hazards.beta_l[design.week]][k]
    return (F @ hazards.beta_a)[:, None] + wa[None, :], (F @ hazards.beta_l)[:, None] + wl[None, :]


def _effect(eta_a: np.ndarray, eta_l: np.ndarray, da: np.ndarray, dl: np.ndarray) -> np.ndarray:
    """Standardised change in P(advance within the visit) for log-odds shifts ``da``, ``dl``."""
    p0 = p_advance(eta_a, eta_l).mean()
    p1 = p_advance(eta_a[None] + da[:, None, None], eta_l[None] + dl[:, None, None])
    return p1.mean(axis=1) - p0


def _effect_with_se(eta_a: np.ndarray, eta_l: np.ndarray, da: np.ndarray, dl: np.ndarray,
                    va: np.ndarray, vl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_effect`` and its standard error from the variances ``va``, ``vl`` of the shifts."""
    # One-sd finite differences: unlike a derivative at the point, they stay honest
    # when a large coefficient saturates the hazard.
    sa, sl = np.sqrt(va), np.sqrt(vl)
    est = _effect(eta_a, eta_l, da, dl)
    ga = (_effect(eta_a, eta_l, da + sa, dl) - _effect(eta_a, eta_l, da - sa, dl)) / 2
    gl = (_effect(eta_a, eta_l, da, dl + sl) - _effect(eta_a, eta_l, da, dl - sl)) / 2
    return est, np.sqrt(ga ** 2 + gl ** 2)


def _exposed_rows(exp_rows: sparse.csc_matrix, asset: int) -> np.ndarray:
    """Positions (within the stage's rows) where ``asset`` is an exposure."""
    return exp_rows.indices[exp_rows.indptr[asset]:exp_rows.indptr[asset + 1]]


def _column_of_asset(design: Design) -> dict[int, int]:
    return {int(a): i for i, a in enumerate(design.exposure_assets)}


def _pooled_cells(ep: Episodes, rows: np.ndarray, visits: np.ndarray, design: Design,
                  hazards: _Hazards, exp_rows: sparse.csc_matrix, eta_a: np.ndarray,
                  eta_l: np.ndarray) -> list[dict]:
    """One cell per asset shared in the stage or with an exposure column."""
    cols = np.arange(design.exposure.start, design.exposure.stop)
    est, se = _effect_with_se(eta_a, eta_l, hazards.beta_a[cols], hazards.beta_l[cols],
                              np.diag(hazards.cov_a)[cols], np.diag(hazards.cov_l)[cols])
    shared = ep.visit_shared[visits]
    sup = np.zeros(len(ep.asset_ids), dtype=np.int64)
    for a in range(len(ep.asset_ids)):
        sup[a] = np.unique(ep.row_visit[rows[_exposed_rows(exp_rows, a)]]).size
    naive, unused = naive_win_rates(ep, visits)
    cells = []
    by_asset = _column_of_asset(design)
    n_shared = np.asarray(shared.sum(0)).ravel()
    for a, asset_id in enumerate(ep.asset_ids):
        if n_shared[a] == 0 and a not in by_asset:
            continue
        i = by_asset.get(a)
        cells.append({"asset_id": asset_id, "segment": None, "asset": a,
                      "raw": float(est[i]) if i is not None else None,
                      "se": float(se[i]) if i is not None else None,
                      "log_odds": float(hazards.beta_a[cols[i]]) if i is not None else None,
                      "support": int(sup[a]), "n_visits": int(visits.size),
                      "naive": naive[a], "unused": unused[a]})
    return cells


def _segment_cells(ep: Episodes, rows: np.ndarray, visits: np.ndarray, design: Design,
                   hazards: _Hazards, exp_rows: sparse.csc_matrix, beta_s: np.ndarray,
                   cov_s: np.ndarray, rng: np.random.Generator,
                   params: StageFitParams) -> list[dict]:
    """One cell per asset × segment interaction, standardised over that segment's visits."""
    by_asset = _column_of_asset(design)
    groups: dict[tuple[str, int], list[int]] = {}
    for j, (_, kind, g) in enumerate(design.interactions):
        groups.setdefault((kind, g), []).append(j)
    cells = []
    for (kind, g), js in groups.items():  # one standardisation per segment
        level_of = ep.visit_industry if kind == "industry" else ep.visit_persona
        names = ep.industries if kind == "industry" else ep.personas
        seg_visits = visits[level_of[visits] == g]
        ref = _reference_visits(seg_visits, params.n_reference // 2, rng)
        ea, el = _linear_predictors(ep, ref, design, hazards, params)
        assets = [design.interactions[j][0] for j in js]
        cm = np.array([design.exposure.start + by_asset[a] for a in assets])
        ci = design.interaction.start + np.array(js)
        va = cov_s[cm, cm] + cov_s[ci, ci] + 2 * cov_s[cm, ci]
        e1, s1 = _effect_with_se(ea, el, beta_s[cm] + beta_s[ci], hazards.beta_l[cm], va,
                                 hazards.cov_l[cm, cm])
        for i, a in enumerate(assets):
            r = rows[_exposed_rows(exp_rows, a)]
            seg_sup = int(np.unique(ep.row_visit[r][level_of[ep.row_visit[r]] == g]).size)
            cells.append({"asset_id": ep.asset_ids[a], "segment": f"{kind}={names[g]}",
                          "asset": a, "raw": float(e1[i]), "se": float(s1[i]),
                          "log_odds": float(beta_s[cm[i]] + beta_s[ci[i]]),
                          "support": seg_sup, "n_visits": int(seg_visits.size),
                          "naive": None, "unused": None})
    return cells


def naive_win_rates(ep: Episodes, visits: np.ndarray) -> tuple[list, list]:
    """Win rate of closed deals that reached the stage, with / without each asset ever used.

    Parameters
    ----------
    ep : Episodes
    visits : ndarray of int
        The stage's visits.

    Returns
    -------
    naive, unused : list of float or None, length n_assets
        None where no closed deal falls in the group.
    """
    opps = np.unique(ep.visit_opp[visits])
    opps = opps[ep.opp_won[opps] >= 0]
    won = ep.opp_won[opps].astype(float)
    used = (ep.ever_shared[opps] > 0).astype(float)
    n_used = np.asarray(used.sum(0)).ravel()
    w_used = np.asarray(used.T @ won).ravel()
    n_un = opps.size - n_used
    w_un = won.sum() - w_used
    naive = [float(w / n) if n > 0 else None for w, n in zip(w_used, n_used, strict=True)]
    unused = [float(w / n) if n > 0 else None for w, n in zip(w_un, n_un, strict=True)]
    return naive, unused
