"""A simulated sales world with known content effects: ground truth for the outcome learner.

Generative model (one draw per ``seed``; every number below is a parameter of ``simulate_world``
or a module constant):

* **Reps** ``r``: skill ``s_r ~ N(0, 0.6)``. Each opportunity gets a rep, an industry, a persona
  and an amount (log-normal); it is created uniformly over the two years before ``end`` and enters
  the first buying stage (``awareness``, pipeline stage ``Prospecting``) on creation.
* **Time** runs in weeks of each stage visit. In week ``k`` of a visit of buying stage ``b``:

  1. the *logging policy* recommends 3 assets of stage ``b``: with probability ``epsilon`` a
     uniformly random list (the randomized holdout), else the policy's fixed top 3 by appeal.
     Each shown asset gets a ``recommended`` event whose ``propensity`` is exact:
     ``(1 - epsilon) [j in top3] + epsilon 3 / N_b``;
  2. the rep shares asset ``j`` (at most once per visit) with probability
     ``sigmoid(-4.2 + appeal_j + 0.7 s_r + 1.8 recommended_j + 1.5 max(s_r, 0) decoy_j
     - 2.5 [j not of stage b])``: strong reps share more and favour the *decoys*;
  3. the deal advances with weekly hazard ``h_a = sigmoid(a_b + g(k) + s_r + x'beta + sum_j
     tau_{j,b,seg} E_j)`` where ``E_j = 1`` from the week after asset ``j`` was shared in this
     visit; otherwise it is lost with hazard ``h_l = sigmoid(l_b - 0.5 s_r + 0.2 z_amount)``
     (so ``P(advance in week k) = h_a`` and ``P(lost) = (1 - h_a) h_l``). Inside a buying stage
     the deal also moves through the stage's pipeline stages (history rows, no outcome).
  4. shares after the week's outcome are dropped; won deals often get a post-sale
     ``implementation_plan``-like share dated after ``closed_at`` (a trap for naive attribution).
  Deals still open at ``end`` are censored (status ``open``, realistic days in stage).
* **Assets** and their true weekly log-odds effects ``tau``: per buying stage, *helpful* assets
  (``+0.35..+0.9``; two of them *rarely shared*: appeal ``-2``), *decoys* (``tau = 0``, high
  appeal, favoured by strong reps), *neutral* assets (``tau ~ N(0, 0.08)``), and *segment*
  assets whose effect exists only for one industry or persona. Outside its own stage an asset
  *hurts* when shared too early (``-0.3..-0.8`` in an earlier stage) and does little later.
* Shares are followed by ``viewed`` (60%), then ``helpful``/``not_helpful`` events.

The truth (``World.truth``, written to ``truth.json``) is reported on the estimand of
``recommender.learning.effects``: the difference in the probability of advancing out of the buying stage
within the visit when the asset is shared at the visit's start versus never, other content held
at none, averaged over the visits the world actually made to that stage (and over a segment's
visits for segment effects). ``log_odds`` carries the weekly ``tau`` as well.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from recommender.errors import ValidationError
from recommender.learning.simulator_files import (  # noqa: F401  (re-exported: the simulator's public API)
    EVENT_COLUMNS,
    HISTORY_COLUMNS,
    OPPORTUNITY_COLUMNS,
    World,
    make_rows,
    write_world,
)

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


def _week_shape(k: np.ndarray) -> np.ndarray:
    """Baseline log-odds of advancing by week in stage: a slow start, a peak, a long tail."""
    return np.where(k == 0, -0.4, np.where(k <= 3, 0.2, 0.2 - 0.06 * np.minimum(k - 3, 15)))


def _generate_assets(rng: np.random.Generator, per_stage: int = 20) -> list[dict]:
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


def _assign_effects(rng: np.random.Generator, assets: list[dict]) -> None:
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


def simulate_world(seed: int, n_opportunities: int = 4000, assets: list[dict] | None = None,
                   end: datetime | None = None, n_reps: int | None = None,
                   epsilon: float = 0.15, years: float = 2.0) -> World:
    """Simulate a CRM history with known content effects.

    Parameters
    ----------
    seed : int
        Seed of every random draw: the same arguments give the same world.
    n_opportunities : int
        Number of opportunities (deals).
    assets : list of dict, optional
        Asset metadata (``id``, ``type``, ``stage``, ``personas``, ``industries``, ``title``),
        e.g. the demo library's; default: about 60 generated assets.
    end : datetime, optional
        The simulation's "now"; deals open at ``end`` are censored.
    n_reps : int, optional
        Number of sales reps (default ``n_opportunities // 100``, within 8..80).
    epsilon : float
        Share of the logging policy's lists drawn uniformly at random.

    Returns
    -------
    World
    """
    if n_opportunities < 1:
        raise ValidationError("n_opportunities must be at least 1")
    rng = np.random.default_rng(seed)
    end = end or DEFAULT_END
    assets = [dict(a) for a in assets] if assets is not None else _generate_assets(rng)
    if not assets:
        raise ValidationError("simulate_world needs at least one asset")
    for a in assets:
        if a.get("stage") not in STAGES:
            a["stage"] = "consideration"
        a.setdefault("title", a["id"])
        a.setdefault("type", "faq")
    _assign_effects(rng, assets)
    n_assets, n = len(assets), n_opportunities
    n_reps = n_reps or int(np.clip(n // 100, 8, 80))
    skill_r = rng.normal(0.0, 0.6, n_reps)
    rep_names = [f"rep{i:03d}@example.com" for i in range(n_reps)]

    rep = rng.integers(n_reps, size=n)
    skill = skill_r[rep]
    ind = rng.integers(len(INDUSTRIES), size=n)
    per = rng.integers(len(PERSONAS), size=n)
    amount = np.round(np.exp(rng.normal(10.5, 0.8, n)), -2)
    z_amt = (np.log(amount) - 10.5) / 0.8
    ind_eff = np.linspace(-0.2, 0.2, len(INDUSTRIES))[ind]
    per_eff = np.linspace(0.15, -0.15, len(PERSONAS))[per]
    span = years * 365.0
    created = rng.uniform(0.0, span - 3.0, n)  # days since the world's start
    start = end - timedelta(days=span)

    appeal = np.array([a["appeal"] for a in assets])
    decoy = np.array([a["role"] == "decoy" for a in assets], dtype=float)
    a_stage = np.array([STAGES.index(a["stage"]) for a in assets])
    tau = np.array([[a["tau"][s] for s in STAGES] for a in assets])  # (n_assets, 3)
    seg_bump = np.zeros((n, n_assets))
    for j, a in enumerate(assets):
        if a.get("segment"):
            kind, value, bump = a["segment"]
            match = (np.array(INDUSTRIES)[ind] == value) if kind == "industry" else (
                np.array(PERSONAS)[per] == value)
            seg_bump[:, j] = bump * match
    top3 = {b: np.flatnonzero(a_stage == b)[np.argsort(-appeal[a_stage == b])][:3]
            for b in range(3)}

    history: list = []
    stage = np.zeros(n, dtype=int)  # buying stage index
    sub = np.zeros(n, dtype=int)  # pipeline stage index within the buying stage
    week = np.zeros(n, dtype=int)
    t0 = created.copy()  # start of the current visit (days)
    alive = np.ones(n, dtype=bool)
    exposed = np.zeros((n, n_assets), dtype=bool)
    shared = np.zeros((n, n_assets), dtype=bool)
    status = np.array(["open"] * n, dtype=object)
    closed = np.full(n, np.nan)
    entries: list[list[int]] = [[], [], []]  # visits made per stage (deal index)
    entries[0].extend(range(n))
    entered = created.copy()  # when the current pipeline stage was entered
    now_days = span
    ev = []  # (opp, asset, type, t, pipeline stage, propensity)
    for _step in range(400):
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            break
        wk_start = t0[idx] + 7.0 * week[idx]
        b = stage[idx]
        # 1. logging policy
        for bb in range(3):
            sel = idx[b == bb]
            cand = np.flatnonzero(a_stage == bb)
            if sel.size == 0 or cand.size == 0:
                continue
            k = min(3, cand.size)
            rand = rng.random(sel.size) < epsilon
            picks = np.where(rand[:, None],
                             np.argsort(rng.random((sel.size, cand.size)), 1)[:, :k],
                             np.searchsorted(cand, top3[bb][:k])[None, :])
            p_top = np.zeros(cand.size)
            p_top[np.searchsorted(cand, top3[bb][:k])] = 1.0
            prop = (1 - epsilon) * p_top + epsilon * k / cand.size
            rec_t = t0[sel] + 7.0 * week[sel] + rng.uniform(0, 1, sel.size)
            names = np.array(PIPELINE[STAGES[bb]], dtype=object)[sub[sel]]
            shown = rec_t < now_days
            for col in range(k):
                aj = cand[picks[:, col]]
                ev.append((sel[shown], aj[shown], "recommended", rec_t[shown],
                           prop[picks[:, col]][shown], names[shown]))
            rec = np.zeros((sel.size, n_assets), dtype=bool)
            rec[np.arange(sel.size)[:, None], cand[picks]] = True
            # 2. shares
            off = (a_stage[None, :] != bb) * -2.5
            logit = (-4.2 + appeal[None, :] + 0.7 * skill[sel, None] + 1.8 * rec
                     + 1.5 * np.maximum(skill[sel, None], 0) * decoy[None, :] + off)
            share = (rng.random(logit.shape) < 1 / (1 + np.exp(-logit))) & ~shared[sel]
            share_t = (t0[sel, None] + 7.0 * week[sel, None]
                       + rng.uniform(1.0, 7.0, share.shape))
            # 3. outcome of the week
            eta = (STAGE_BASE[STAGES[bb]] + _week_shape(week[sel]) + skill[sel]
                   - 0.3 * z_amt[sel] + ind_eff[sel] + per_eff[sel]
                   + (exposed[sel] * (tau[None, :, bb] + seg_bump[sel] * (a_stage == bb))).sum(1))
            h_a = 1 / (1 + np.exp(-eta))
            h_l = 1 / (1 + np.exp(-(LOSS_BASE[STAGES[bb]] - 0.5 * skill[sel] + 0.2 * z_amt[sel])))
            u = rng.random(sel.size)
            adv, lost = u < h_a, (u >= h_a) & (u < h_a + (1 - h_a) * h_l)
            out_t = t0[sel] + 7.0 * week[sel] + rng.uniform(0.5, 7.0, sel.size)
            censor = out_t >= now_days
            adv, lost = adv & ~censor, lost & ~censor
            ended = adv | lost
            limit = np.where(ended, out_t, now_days)
            share &= share_t < limit[:, None]
            rows, cols = np.nonzero(share)
            ev.append((sel[rows], cols, "shared", share_t[rows, cols], None, names[rows]))
            shared[sel] |= share
            exposed[sel] |= share  # from next week on (this week's eta was computed above)
            # pipeline moves inside the buying stage
            move = (~ended) & (rng.random(sel.size) < 0.3) & (sub[sel] < len(
                PIPELINE[STAGES[bb]]) - 1) & (out_t < now_days)
            for i in np.flatnonzero(move):
                o = sel[i]
                history.append((o, PIPELINE[STAGES[bb]][sub[o]], PIPELINE[STAGES[bb]][sub[o] + 1],
                                out_t[i]))
                sub[o] += 1
                entered[o] = out_t[i]
            for i in np.flatnonzero(ended):
                o = sel[i]
                frm = PIPELINE[STAGES[bb]][sub[o]]
                if lost[i]:
                    history.append((o, frm, "Closed Lost", out_t[i]))
                    status[o], closed[o], alive[o] = "lost", out_t[i], False
                    entered[o] = out_t[i]
                elif bb == 2:
                    history.append((o, frm, "Closed Won", out_t[i]))
                    status[o], closed[o], alive[o] = "won", out_t[i], False
                    entered[o] = out_t[i]
                else:
                    history.append((o, frm, PIPELINE[STAGES[bb + 1]][0], out_t[i]))
                    stage[o], sub[o], week[o], t0[o] = bb + 1, 0, -1, out_t[i]
                    entries[bb + 1].append(o)
                    entered[o] = out_t[i]
                    exposed[o], shared[o] = False, False
            stop = censor | (wk_start[b == bb] + 7.0 >= now_days)
            alive[sel[stop & ~ended]] = False
        week[idx] += 1
    _add_followups(rng, assets, ev, status, closed, now_days, a_stage, tau)
    truth = _truth(assets, entries, skill, z_amt, ind_eff, per_eff, ind, per, tau, seg_bump)
    current = [PIPELINE[STAGES[stage[i]]][sub[i]] if status[i] == "open" else
               ("Closed Won" if status[i] == "won" else "Closed Lost") for i in range(n)]
    rows = make_rows(assets, rep_names, rep, np.array(INDUSTRIES)[ind], np.array(PERSONAS)[per],
                     amount, created, current, entered, status, closed, history, ev, start)
    opps, history_rows, event_rows = rows
    return World(seed=seed, end=end, assets=assets, opportunities=opps,
                 stage_history=history_rows, events=event_rows, truth=truth,
                 reps=dict(zip(rep_names, skill_r.tolist(), strict=True)))


def _add_followups(rng, assets, ev, status, closed, now_days, a_stage, tau) -> None:
    """Append viewed / helpful / not_helpful events and post-sale shares to ``ev``."""
    shares = [e for e in ev if e[2] == "shared"]
    if shares:
        opp = np.concatenate([e[0] for e in shares])
        aj = np.concatenate([e[1] for e in shares])
        t = np.concatenate([e[3] for e in shares])
        names = np.concatenate([e[5] for e in shares])
        view_t = t + rng.uniform(0.05, 3.0, t.size)
        viewed = (rng.random(t.size) < 0.6) & (view_t < now_days)
        ev.append((opp[viewed], aj[viewed], "viewed", view_t[viewed], None, names[viewed]))
        good = tau[aj, a_stage[aj]] > 0.2
        rate_t = view_t + rng.uniform(0.01, 1.0, t.size)
        u = rng.random(t.size)
        ok = viewed & (rate_t < now_days)
        helpful = ok & (u < np.where(good, 0.35, 0.12))
        unhelpful = ok & ~helpful & (u < np.where(good, 0.4, 0.3))
        for mask, kind in ((helpful, "helpful"), (unhelpful, "not_helpful")):
            ev.append((opp[mask], aj[mask], kind, rate_t[mask], None, names[mask]))
    # Post-sale: implementation material shared after the deal is won (never an exposure).
    post = [j for j, a in enumerate(assets) if a["type"] == "implementation_plan"]
    post = post or [j for j, a in enumerate(assets) if a["stage"] == "decision"] or [0]
    won = np.flatnonzero(status == "won")
    t = closed[won] + rng.uniform(1.0, 20.0, won.size)
    keep = (rng.random(won.size) < 0.5) & (t < now_days)
    aj = np.asarray(post)[rng.integers(len(post), size=int(keep.sum()))]
    ev.append((won[keep], aj, "shared", t[keep], None,
               np.array(["Closed Won"] * int(keep.sum()), dtype=object)))


def a_stage_of(asset: dict) -> int:
    return STAGES.index(asset["stage"])


def _truth(assets, entries, skill, z_amt, ind_eff, per_eff, ind, per, tau, seg_bump) -> dict:
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
        eta_a = base[:, None] + _week_shape(k)[None, :]
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
