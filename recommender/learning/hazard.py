"""Discrete-time hazard regression: the design matrix and a penalised logistic fit.

Used by ``recommender.learning.effects``. The weekly rows of one buying stage get two binary models:

* **advance**: ``P(advance in week k | still in the stage)``, fitted on every at-risk row;
* **exit**: ``P(lost or moved back in week k | at risk, not advanced)``, fitted on the rows
  that did not advance (a continuation-ratio factorisation of the three-way outcome, so
  ``P(advance) = h_a`` and ``P(exit) = (1 - h_a) h_l`` exactly).

Each model is a logistic regression with a Gaussian prior (ridge penalty) whose width differs
per block of columns: near-flat on the baseline hazard and covariates, ``rep_prior_sd`` on the
rep effects (a random-effect-like shrinkage that still adjusts for rep skill), weak on the asset
exposures and tighter on the asset × segment interactions. It is fitted by Newton-Raphson on a
sparse design; the inverse penalised Hessian is the (Laplace) posterior covariance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from recommender.learning.episodes import Episodes


@dataclass
class Design:
    """Column layout of one stage's design: names and the slice of each block."""

    names: list[str]
    prior_sd: np.ndarray  # (p,)
    week: slice
    covariates: slice
    rep: slice
    exposure: slice
    interaction: slice
    exposure_assets: np.ndarray  # asset index of each exposure column
    interactions: list[tuple[int, str, int]]  # (asset index, "industry"|"persona", level)
    amount_mean: float
    amount_sd: float


def visit_features(ep: Episodes, visits: np.ndarray, design: Design) -> sparse.csr_matrix:
    """Baseline (non-week, non-exposure) columns of ``visits``: (len(visits), p) CSR."""
    n = visits.size
    p = len(design.names)
    cov = design.covariates.start
    n_ind, n_per = len(ep.industries), len(ep.personas)
    amt = (ep.visit_log_amount[visits] - design.amount_mean) / design.amount_sd
    prior = np.log1p(ep.visit_prior_shares[visits])
    rows = np.repeat(np.arange(n), 6)
    cols = np.column_stack([
        np.zeros(n, dtype=np.int64), np.full(n, cov), np.full(n, cov + 1),
        cov + 2 + ep.visit_industry[visits], cov + 2 + n_ind + ep.visit_persona[visits],
        design.rep.start + ep.visit_rep[visits],
    ]).ravel()
    vals = np.column_stack([np.ones(n), amt, prior, np.ones(n), np.ones(n),
                            np.ones(n)]).ravel()
    assert cov + 2 + n_ind + n_per == design.rep.start
    return sparse.csr_matrix((vals, (rows, cols)), shape=(n, p))


def make_design(ep: Episodes, rows: np.ndarray, *, max_week: int, rep_prior_sd: float,
                exposure_prior_sd: float, segment_prior_sd: float,
                min_segment_support: int) -> tuple[sparse.csr_matrix, Design]:
    """Build the (len(rows), p) design of the given weekly rows and its column layout."""
    n_week = max_week  # dummies for weeks 1..max_week (week 0 is the intercept)
    n_ind, n_per, n_rep = len(ep.industries), len(ep.personas), len(ep.reps)
    visits = ep.row_visit[rows]
    exposure = ep.exposure[rows]
    assets = np.flatnonzero(np.asarray(exposure.sum(0)).ravel() > 0)
    interactions: list[tuple[int, str, int]] = []
    inter_cols = []
    if min_segment_support > 0 and assets.size:
        exp_visits = ep.visit_shared[np.unique(visits)][:, assets]
        uv = np.unique(visits)
        for kind, level_of, n_lev in (("industry", ep.visit_industry, n_ind),
                                      ("persona", ep.visit_persona, n_per)):
            lev = level_of[uv]
            for g in range(n_lev):
                in_g = lev == g
                sup = np.asarray(exp_visits[in_g].sum(0)).ravel()
                out_sup = np.asarray(exp_visits[~in_g].sum(0)).ravel()
                for col in np.flatnonzero((sup >= min_segment_support)
                                          & (out_sup >= min_segment_support)):
                    interactions.append((int(assets[col]), kind, g))
                    inter_cols.append(exposure[:, assets[col]].multiply(
                        (level_of[visits] == g)[:, None]))
    start_cov = 1 + n_week
    start_rep = start_cov + 2 + n_ind + n_per
    start_exp = start_rep + n_rep
    start_int = start_exp + assets.size
    p = start_int + len(interactions)
    names = (["intercept"] + [f"week{k}" for k in range(1, n_week + 1)]
             + ["log_amount", "prior_shares"] + [f"industry={x}" for x in ep.industries]
             + [f"persona={x}" for x in ep.personas] + [f"rep={x}" for x in ep.reps]
             + [f"asset={ep.asset_ids[a]}" for a in assets]
             + [f"asset={ep.asset_ids[a]}x{k}={g}" for a, k, g in interactions])
    prior_sd = np.full(p, 10.0)
    prior_sd[start_cov + 2:start_rep] = 2.0
    prior_sd[start_rep:start_exp] = rep_prior_sd
    prior_sd[start_exp:start_int] = exposure_prior_sd
    prior_sd[start_int:] = segment_prior_sd
    amt = ep.visit_log_amount
    design = Design(names=names, prior_sd=prior_sd, week=slice(1, start_cov),
                    covariates=slice(start_cov, start_rep), rep=slice(start_rep, start_exp),
                    exposure=slice(start_exp, start_int), interaction=slice(start_int, p),
                    exposure_assets=assets, interactions=interactions,
                    amount_mean=float(amt.mean()) if amt.size else 0.0,
                    amount_sd=(float(amt.std()) or 1.0) if amt.size else 1.0)
    base = visit_features(ep, visits, design)
    k = np.minimum(ep.row_k[rows], n_week)
    wk = sparse.csr_matrix((np.ones(int((k > 0).sum())), (np.flatnonzero(k > 0), k[k > 0])),
                           shape=(rows.size, p))
    X = base + wk
    if assets.size:
        tail = sparse.hstack([sparse.csr_matrix((rows.size, start_exp)), exposure[:, assets],
                              *inter_cols], format="csr")
        X = X + tail
    return X.tocsr(), design


def fit_logistic(X: sparse.csr_matrix, y: np.ndarray, prior_sd: np.ndarray,
                 max_iter: int = 50, tol: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """Penalised logistic regression (Gaussian prior per column) -> (coef (p,), cov (p, p)).

    Newton-Raphson with step halving on the penalised log-likelihood: p is a few hundred, so
    each step is one sparse ``X' W X`` and a dense solve, and it converges in a handful of steps.
    """
    lam = 1.0 / np.square(prior_sd)
    Xt = X.T.tocsr()
    y = y.astype(float)
    beta = np.zeros(X.shape[1])
    rate = np.clip(y.mean(), 1e-4, 1 - 1e-4) if y.size else 0.5
    beta[0] = np.log(rate / (1 - rate))

    def objective(b: np.ndarray) -> tuple[float, np.ndarray]:
        eta = X @ b
        return float(np.logaddexp(0.0, eta).sum() - y @ eta + 0.5 * lam @ np.square(b)), eta

    value, eta = objective(beta)
    H = np.diag(lam)
    for _ in range(max_iter):
        mu = 0.5 * (1.0 + np.tanh(0.5 * eta))
        grad = Xt @ (mu - y) + lam * beta
        H = np.asarray((Xt @ sparse.diags(mu * (1 - mu)) @ X).todense()) + np.diag(lam)
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, grad, rcond=None)[0]
        t = 1.0
        while True:
            new, new_eta = objective(beta - t * step)
            if new <= value + 1e-12 or t < 1e-6:
                break
            t *= 0.5
        beta, done = beta - t * step, value - new < tol * (1.0 + abs(new))
        value, eta = new, new_eta
        if done:
            break
    mu = 0.5 * (1.0 + np.tanh(0.5 * eta))
    H = np.asarray((Xt @ sparse.diags(mu * (1 - mu)) @ X).todense()) + np.diag(lam)
    try:
        cov = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(H)
    return beta, cov


def p_advance(eta_a: np.ndarray, eta_l: np.ndarray) -> np.ndarray:
    """P(advance within the visit) from weekly log-odds (..., weeks) of the two hazards."""
    h_a = 0.5 * (1.0 + np.tanh(0.5 * eta_a))
    h_l = 0.5 * (1.0 + np.tanh(0.5 * eta_l))
    stay = (1.0 - h_a) * (1.0 - h_l)
    surv = np.cumprod(np.concatenate([np.ones_like(stay[..., :1]), stay[..., :-1]], -1), -1)
    return (surv * h_a).sum(-1)
