"""The simulated world's parameters: stages, vocabularies, assets, true effects.

The generative model is described in ``recommender.learning.simulator``; this module holds its
constants, draws the assets and their true weekly log-odds effects, and computes the truth
(``World.truth``) on the outcome learner's estimand.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

STAGES = ("awareness", "consideration", "decision")
PIPELINE = {
    "awareness": ["Prospecting", "Qualification"],
    "consideration": ["Needs Analysis", "Value Proposition", "Id. Decision Makers",
                      "Perception Analysis"],
    "decision": ["Proposal/Price Quote", "Negotiation/Review"],
}
STAGE_TYPES = {
    "awareness": ["blog_post", "ebook", "whitepaper", "analyst_report", "webinar", "infographic"],
    "consideration": ["case_study", "datasheet", "demo_video", "comparison", "roi_calculator",
                      "testimonial"],
    "decision": ["pricing_sheet", "security_review", "implementation_plan",
                 "proposal_template", "battlecard", "faq"],
}
INDUSTRIES = ("logistics", "retail", "manufacturing", "healthcare", "food-beverage")
PERSONAS = ("cfo", "cio", "operations", "procurement", "security", "fleet-manager")
TOPICS = ("route optimisation", "fleet telematics", "warehouse slotting", "carrier billing",
          "cold-chain monitoring", "dock scheduling", "last-mile delivery", "freight audit",
          "demand forecasting", "driver safety", "fuel savings", "returns handling")
DEFAULT_END = datetime(2026, 6, 30, 12, 0, 0)
STAGE_BASE = {"awareness": -1.6, "consideration": -2.0, "decision": -1.8}
LOSS_BASE = {"awareness": -2.6, "consideration": -2.9, "decision": -2.7}
HORIZON_WEEKS = 104


def week_shape(k: np.ndarray) -> np.ndarray:
    """Baseline log-odds of advancing by week in stage: a slow start, a peak, a long tail."""
    return np.where(k == 0, -0.4, np.where(k <= 3, 0.2, 0.2 - 0.06 * np.minimum(k - 3, 15)))


def generate_assets(rng: np.random.Generator, per_stage: int = 20) -> list[dict]:
    assets = []
    for stage in STAGES:
        for i in range(per_stage):
            kind = STAGE_TYPES[stage][i % len(STAGE_TYPES[stage])]
            topic = TOPICS[int(rng.integers(len(TOPICS)))]
            personas = list(rng.choice(PERSONAS, size=int(rng.integers(1, 3)), replace=False))
            industries = list(rng.choice(INDUSTRIES, size=int(rng.integers(1, 3)), replace=False))
            assets.append({
                "id": f"{stage[:3]}-{kind.replace('_', '-')}-{i:02d}",
                "title": f"{kind.replace('_', ' ').title()}: {topic} ({stage}, #{i})",
                "type": kind, "stage": stage, "personas": personas, "industries": industries,
            })
    return assets


def assign_effects(rng: np.random.Generator, assets: list[dict]) -> None:
    """Give each asset a role, an appeal and its true weekly log-odds effects per stage."""
    for stage in STAGES:
        own = [a for a in assets if a.get("stage") == stage]
        order = rng.permutation(len(own))
        n = len(own)
        n_help = max(1, round(0.35 * n))
        n_decoy = max(1, round(0.15 * n)) if n >= 4 else 0
        n_seg = max(1, round(0.1 * n)) if n >= 6 else 0
        for rank, idx in enumerate(order):
            a = own[idx]
            a["appeal"] = float(rng.normal(0.0, 0.5))
            a["segment"] = None
            if rank < n_help:
                a["role"] = "helpful"
                a["tau_own"] = float(rng.uniform(0.35, 0.9))
                if rank < 2 and n >= 6:
                    a["role"], a["appeal"] = "rare_helpful", -2.0
            elif rank < n_help + n_decoy:
                a["role"], a["tau_own"], a["appeal"] = "decoy", 0.0, 0.6
            elif rank < n_help + n_decoy + n_seg:
                a["role"], a["tau_own"] = "segment", 0.0
                if rank % 2:
                    a["segment"] = ("industry", str(rng.choice(INDUSTRIES)), 0.9)
                else:
                    a["segment"] = ("persona", str(rng.choice(PERSONAS)), 0.9)
            else:
                a["role"], a["tau_own"] = "neutral", float(rng.normal(0.0, 0.08))
    for a in assets:
        own_pos = STAGES.index(a["stage"]) if a.get("stage") in STAGES else 1
        a["tau"] = {}
        for pos, stage in enumerate(STAGES):
            if pos == own_pos:
                a["tau"][stage] = a["tau_own"]
            elif pos < own_pos:  # shared too early: it hurts
                a["tau"][stage] = -float(rng.uniform(0.3, 0.8))
            else:
                a["tau"][stage] = float(rng.normal(0.0, 0.05))


def _p_advance(eta_a: np.ndarray, eta_l: np.ndarray) -> np.ndarray:
    """P(advance within the visit) from weekly log-odds (..., weeks) of the two hazards."""
    h_a = 1.0 / (1.0 + np.exp(-eta_a))
    h_l = 1.0 / (1.0 + np.exp(-eta_l))
    stay = (1.0 - h_a) * (1.0 - h_l)
    surv = np.cumprod(np.concatenate([np.ones_like(stay[..., :1]), stay[..., :-1]], -1), -1)
    return (surv * h_a).sum(-1)


def a_stage_of(asset: dict) -> int:
    return STAGES.index(asset["stage"])


def true_effects(assets, entries, skill, z_amt, ind_eff, per_eff, ind, per, tau, seg_bump) -> dict:
    """Each asset's true effect on P(advance within the visit), per stage and segment."""
    k = np.arange(HORIZON_WEEKS)
    out = {a["id"]: {"type": a["type"], "stage": a["stage"], "role": a["role"],
                     "decoy": a["role"] == "decoy", "log_odds": dict(a["tau"]),
                     "effects": {}, "segments": {}} for a in assets}
    for b, stage in enumerate(STAGES):
        ref = np.asarray(entries[b], dtype=int)[:3000]
        if ref.size == 0:
            for a in assets:
                out[a["id"]]["effects"][stage] = 0.0
            continue
        base = (STAGE_BASE[stage] + skill[ref] - 0.3 * z_amt[ref] + ind_eff[ref]
                + per_eff[ref])
        eta_a = base[:, None] + week_shape(k)[None, :]
        eta_l = np.repeat((LOSS_BASE[stage] - 0.5 * skill[ref] + 0.2 * z_amt[ref])[:, None],
                          k.size, 1)
        p0 = _p_advance(eta_a, eta_l)
        for j, a in enumerate(assets):
            shift = tau[j, b] + seg_bump[ref, j] * (a_stage_of(a) == b)
            diff = _p_advance(eta_a + shift[:, None], eta_l) - p0
            out[a["id"]]["effects"][stage] = round(float(diff.mean()), 6)
            if a.get("segment") and stage == a["stage"]:
                kind, value, _ = a["segment"]
                match = (np.array(INDUSTRIES)[ind[ref]] == value) if kind == "industry" else (
                    np.array(PERSONAS)[per[ref]] == value)
                if match.any():
                    out[a["id"]]["segments"].setdefault(stage, {})[f"{kind}={value}"] = round(
                        float(diff[match].mean()), 6)
                    out[a["id"]]["segments"][stage]["other"] = round(
                        float(diff[~match].mean()) if (~match).any() else 0.0, 6)
    return {"estimand": "difference in P(advance out of the buying stage within the visit), "
                        "asset shared at the visit's start vs never",
            "stages": list(STAGES), "assets": out}
