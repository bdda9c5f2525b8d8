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
``recommender.learning.effects``: the difference in the probability of advancing out of the buying
stage within the visit when the asset is shared at the visit's start versus never, other content
held at none, averaged over the visits the world actually made to that stage (and over a
segment's visits for segment effects). ``log_odds`` carries the weekly ``tau`` as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from recommender.errors import ValidationError
from recommender.learning.simulator_files import World, make_rows
from recommender.learning.simulator_model import (
    DEFAULT_END,
    INDUSTRIES,
    LOSS_BASE,
    PERSONAS,
    PIPELINE,
    STAGE_BASE,
    STAGES,
    assign_effects,
    generate_assets,
    true_effects,
    week_shape,
)

MAX_WEEKS = 400


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
    assets = _prepare_assets(rng, assets)
    n = n_opportunities
    deals = _Deals.draw(rng, n, n_reps or int(np.clip(n // 100, 8, 80)), years)
    catalogue = _Catalogue.of(assets, deals)
    state = _Timeline.start(deals, len(assets))
    history: list = []
    ev: list = []  # (opp, asset, type, t, propensity, pipeline stage)
    for _step in range(MAX_WEEKS):
        idx = np.flatnonzero(state.alive)
        if idx.size == 0:
            break
        wk_start = state.t0[idx] + 7.0 * state.week[idx]
        b = state.stage[idx]
        for bb in range(3):
            sel = idx[b == bb]
            if sel.size == 0 or not (catalogue.a_stage == bb).any():
                continue
            week = _Week(rng, bb, sel, deals, catalogue, state, history, ev)
            week.run(epsilon, wk_start[b == bb])
        state.week[idx] += 1
    _add_followups(rng, assets, ev, state.status, state.closed, state.now_days,
                   catalogue.a_stage, catalogue.tau)
    truth = true_effects(assets, state.entries, deals.skill, deals.z_amt, deals.ind_eff,
                         deals.per_eff, deals.ind, deals.per, catalogue.tau, catalogue.seg_bump)
    rows = make_rows(assets, deals.rep_names, deals.rep, np.array(INDUSTRIES)[deals.ind],
                     np.array(PERSONAS)[deals.per], deals.amount, deals.created,
                     state.current_stages(), state.entered, state.status, state.closed, history,
                     ev, end - timedelta(days=deals.span))
    opps, history_rows, event_rows = rows
    return World(seed=seed, end=end, assets=assets, opportunities=opps,
                 stage_history=history_rows, events=event_rows, truth=truth,
                 reps=dict(zip(deals.rep_names, deals.skill_r.tolist(), strict=True)))


def _prepare_assets(rng: np.random.Generator, assets: list[dict] | None) -> list[dict]:
    """Copy (or generate) the assets, fill defaults and draw their roles and true effects."""
    assets = [dict(a) for a in assets] if assets is not None else generate_assets(rng)
    if not assets:
        raise ValidationError("simulate_world needs at least one asset")
    for a in assets:
        if a.get("stage") not in STAGES:
            a["stage"] = "consideration"
        a.setdefault("title", a["id"])
        a.setdefault("type", "faq")
    assign_effects(rng, assets)
    return assets


@dataclass
class _Deals:
    """Reps and the fixed attributes of each deal, shape (n,) unless noted."""

    rep_names: list[str]
    skill_r: np.ndarray  # (n_reps,)
    rep: np.ndarray
    skill: np.ndarray
    ind: np.ndarray
    per: np.ndarray
    amount: np.ndarray
    z_amt: np.ndarray
    ind_eff: np.ndarray
    per_eff: np.ndarray
    created: np.ndarray  # days since the world's start
    span: float  # days simulated

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int, n_reps: int, years: float) -> _Deals:
        skill_r = rng.normal(0.0, 0.6, n_reps)
        rep_names = [f"rep{i:03d}@example.com" for i in range(n_reps)]
        rep = rng.integers(n_reps, size=n)
        ind = rng.integers(len(INDUSTRIES), size=n)
        per = rng.integers(len(PERSONAS), size=n)
        amount = np.round(np.exp(rng.normal(10.5, 0.8, n)), -2)
        span = years * 365.0
        return cls(rep_names=rep_names, skill_r=skill_r, rep=rep, skill=skill_r[rep], ind=ind,
                   per=per, amount=amount, z_amt=(np.log(amount) - 10.5) / 0.8,
                   ind_eff=np.linspace(-0.2, 0.2, len(INDUSTRIES))[ind],
                   per_eff=np.linspace(0.15, -0.15, len(PERSONAS))[per],
                   created=rng.uniform(0.0, span - 3.0, n), span=span)


@dataclass
class _Catalogue:
    """Asset arrays, shape (n_assets,) unless noted, and the logging policy's top 3 per stage."""

    appeal: np.ndarray
    decoy: np.ndarray
    a_stage: np.ndarray
    tau: np.ndarray  # (n_assets, 3)
    seg_bump: np.ndarray  # (n deals, n_assets)
    top3: dict[int, np.ndarray]

    @classmethod
    def of(cls, assets: list[dict], deals: _Deals) -> _Catalogue:
        appeal = np.array([a["appeal"] for a in assets])
        a_stage = np.array([STAGES.index(a["stage"]) for a in assets])
        seg_bump = np.zeros((deals.ind.size, len(assets)))
        for j, a in enumerate(assets):
            if a.get("segment"):
                kind, value, bump = a["segment"]
                match = (np.array(INDUSTRIES)[deals.ind] == value) if kind == "industry" else (
                    np.array(PERSONAS)[deals.per] == value)
                seg_bump[:, j] = bump * match
        top3 = {b: np.flatnonzero(a_stage == b)[np.argsort(-appeal[a_stage == b])][:3]
                for b in range(3)}
        return cls(appeal=appeal,
                   decoy=np.array([a["role"] == "decoy" for a in assets], dtype=float),
                   a_stage=a_stage, tau=np.array([[a["tau"][s] for s in STAGES] for a in assets]),
                   seg_bump=seg_bump, top3=top3)


@dataclass
class _Timeline:
    """Where each deal is: buying stage, pipeline stage, week of the visit, status, exposures."""

    stage: np.ndarray  # buying stage index
    sub: np.ndarray  # pipeline stage index within the buying stage
    week: np.ndarray
    t0: np.ndarray  # start of the current visit (days)
    alive: np.ndarray
    exposed: np.ndarray  # (n, n_assets)
    shared: np.ndarray  # (n, n_assets)
    status: np.ndarray
    closed: np.ndarray
    entries: list[list[int]]  # visits made per stage (deal index)
    entered: np.ndarray  # when the current pipeline stage was entered
    now_days: float

    @classmethod
    def start(cls, deals: _Deals, n_assets: int) -> _Timeline:
        n = deals.created.size
        return cls(stage=np.zeros(n, dtype=int), sub=np.zeros(n, dtype=int),
                   week=np.zeros(n, dtype=int), t0=deals.created.copy(),
                   alive=np.ones(n, dtype=bool), exposed=np.zeros((n, n_assets), dtype=bool),
                   shared=np.zeros((n, n_assets), dtype=bool),
                   status=np.array(["open"] * n, dtype=object), closed=np.full(n, np.nan),
                   entries=[list(range(n)), [], []], entered=deals.created.copy(),
                   now_days=deals.span)

    def current_stages(self) -> list[str]:
        """Each deal's pipeline stage at the end (closed deals: Closed Won / Closed Lost)."""
        return [PIPELINE[STAGES[self.stage[i]]][self.sub[i]] if self.status[i] == "open" else
                ("Closed Won" if self.status[i] == "won" else "Closed Lost")
                for i in range(self.stage.size)]


@dataclass
class _Week:
    """One week of the deals ``sel`` that are in buying stage ``bb`` (steps 1-3 of the model)."""

    rng: np.random.Generator
    bb: int
    sel: np.ndarray
    deals: _Deals
    cat: _Catalogue
    state: _Timeline
    history: list
    ev: list

    def run(self, epsilon: float, wk_start: np.ndarray) -> None:
        state, sel = self.state, self.sel
        names = np.array(PIPELINE[STAGES[self.bb]], dtype=object)[state.sub[sel]]
        rec = self.recommend(epsilon, names)
        share, share_t = self.draw_shares(rec)
        adv, lost, out_t, censor = self.draw_outcomes()
        ended = adv | lost
        limit = np.where(ended, out_t, state.now_days)
        share &= share_t < limit[:, None]
        rows, cols = np.nonzero(share)
        self.ev.append((sel[rows], cols, "shared", share_t[rows, cols], None, names[rows]))
        state.shared[sel] |= share
        state.exposed[sel] |= share  # from next week on (this week's eta was computed above)
        self.move_pipeline(ended, out_t)
        self.close_or_advance(adv, lost, ended, out_t)
        stop = censor | (wk_start + 7.0 >= state.now_days)
        state.alive[sel[stop & ~ended]] = False

    def recommend(self, epsilon: float, names: np.ndarray) -> np.ndarray:
        """1. The logging policy's list per deal, logged with exact propensities."""
        rng, sel, state = self.rng, self.sel, self.state
        cand = np.flatnonzero(self.cat.a_stage == self.bb)
        top = self.cat.top3[self.bb]
        k = min(3, cand.size)
        rand = rng.random(sel.size) < epsilon
        picks = np.where(rand[:, None],
                         np.argsort(rng.random((sel.size, cand.size)), 1)[:, :k],
                         np.searchsorted(cand, top[:k])[None, :])
        p_top = np.zeros(cand.size)
        p_top[np.searchsorted(cand, top[:k])] = 1.0
        prop = (1 - epsilon) * p_top + epsilon * k / cand.size
        rec_t = state.t0[sel] + 7.0 * state.week[sel] + rng.uniform(0, 1, sel.size)
        shown = rec_t < state.now_days
        for col in range(k):
            aj = cand[picks[:, col]]
            self.ev.append((sel[shown], aj[shown], "recommended", rec_t[shown],
                            prop[picks[:, col]][shown], names[shown]))
        rec = np.zeros((sel.size, state.exposed.shape[1]), dtype=bool)
        rec[np.arange(sel.size)[:, None], cand[picks]] = True
        return rec

    def draw_shares(self, rec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """2. Which assets each rep shares this week (at most once per visit), and when."""
        rng, sel, state, cat = self.rng, self.sel, self.state, self.cat
        skill = self.deals.skill[sel, None]
        off = (cat.a_stage[None, :] != self.bb) * -2.5
        logit = (-4.2 + cat.appeal[None, :] + 0.7 * skill + 1.8 * rec
                 + 1.5 * np.maximum(skill, 0) * cat.decoy[None, :] + off)
        share = (rng.random(logit.shape) < 1 / (1 + np.exp(-logit))) & ~state.shared[sel]
        share_t = (state.t0[sel, None] + 7.0 * state.week[sel, None]
                   + rng.uniform(1.0, 7.0, share.shape))
        return share, share_t

    def draw_outcomes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """3. Advance, lost or neither this week; returns (adv, lost, time, censored)."""
        rng, sel, state, cat, d = self.rng, self.sel, self.state, self.cat, self.deals
        stage = STAGES[self.bb]
        content = state.exposed[sel] * (cat.tau[None, :, self.bb]
                                        + cat.seg_bump[sel] * (cat.a_stage == self.bb))
        eta = (STAGE_BASE[stage] + week_shape(state.week[sel]) + d.skill[sel]
               - 0.3 * d.z_amt[sel] + d.ind_eff[sel] + d.per_eff[sel] + content.sum(1))
        h_a = 1 / (1 + np.exp(-eta))
        h_l = 1 / (1 + np.exp(-(LOSS_BASE[stage] - 0.5 * d.skill[sel] + 0.2 * d.z_amt[sel])))
        u = rng.random(sel.size)
        adv, lost = u < h_a, (u >= h_a) & (u < h_a + (1 - h_a) * h_l)
        out_t = state.t0[sel] + 7.0 * state.week[sel] + rng.uniform(0.5, 7.0, sel.size)
        censor = out_t >= state.now_days
        return adv & ~censor, lost & ~censor, out_t, censor

    def move_pipeline(self, ended: np.ndarray, out_t: np.ndarray) -> None:
        """Pipeline moves inside the buying stage (history rows, no outcome)."""
        state, sel, pipeline = self.state, self.sel, PIPELINE[STAGES[self.bb]]
        move = (~ended) & (self.rng.random(sel.size) < 0.3) & (
            state.sub[sel] < len(pipeline) - 1) & (out_t < state.now_days)
        for i in np.flatnonzero(move):
            o = sel[i]
            self.history.append((o, pipeline[state.sub[o]], pipeline[state.sub[o] + 1],
                                 out_t[i]))
            state.sub[o] += 1
            state.entered[o] = out_t[i]

    def close_or_advance(self, adv: np.ndarray, lost: np.ndarray, ended: np.ndarray,
                         out_t: np.ndarray) -> None:
        """Record each ended visit: lost, won (last stage) or into the next buying stage."""
        state, bb = self.state, self.bb
        for i in np.flatnonzero(ended):
            o = self.sel[i]
            frm = PIPELINE[STAGES[bb]][state.sub[o]]
            if lost[i]:
                self.history.append((o, frm, "Closed Lost", out_t[i]))
                state.status[o], state.closed[o], state.alive[o] = "lost", out_t[i], False
            elif bb == 2:
                self.history.append((o, frm, "Closed Won", out_t[i]))
                state.status[o], state.closed[o], state.alive[o] = "won", out_t[i], False
            else:
                self.history.append((o, frm, PIPELINE[STAGES[bb + 1]][0], out_t[i]))
                state.stage[o], state.sub[o], state.week[o], state.t0[o] = bb + 1, 0, -1, out_t[i]
                state.entries[bb + 1].append(o)
                state.exposed[o], state.shared[o] = False, False
            state.entered[o] = out_t[i]


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


