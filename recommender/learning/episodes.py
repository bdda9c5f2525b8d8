"""Stage-visit episodes: the person-period data the outcome learner fits.

A *visit* is one stretch of an opportunity in one buying stage, from the moment it enters
(any pipeline stage of that buying stage) to the moment it leaves: **advanced** (to a later
buying stage, or won), **exited** (lost, or moved back to an earlier buying stage) or
**censored** (still open at ``now``: never counted as a loss). Moves between pipeline stages of
the same buying stage stay inside one visit.

Each visit is cut into intervals of ``interval_days`` (a week by default) from its entry:
interval ``k`` covers ``[entry + k w, entry + (k + 1) w)``. An ended visit has
``floor(duration / w) + 1`` intervals, the last one holding its outcome; a censored visit keeps
only its complete intervals, all without an outcome. Each interval is one row (discrete-time
hazard, "person-period" data).

Exposures are time-varying. A ``shared`` event belongs to the visit in progress when it
happened; it counts **only if it happened before the visit's outcome**, and only **from the
interval after** the one it happened in (so an asset cannot be credited for an advance that
was already under way in the same week). Shares after the outcome (e.g. post-sale material,
shares in a later stage) are not exposures of this visit. Everything is built with numpy
sorts and ``searchsorted``: a million events take seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from recommender.domain import StageConfig
from recommender.errors import ValidationError
from recommender.learning.episode_inputs import (
    CHANGE_FIELDS,
    EVENT_FIELDS,
    LOST_CODE,
    NO_STAGE,
    OPPORTUNITY_FIELDS,
    WON_CODE,
    ChangeArrays,
    OpportunityArrays,
    ShareArrays,
    columns,
    index_values,
    now_in_days,
    read_changes,
    read_opportunities,
    read_shares,
)

CENSORED, ADVANCED, EXITED = 0, 1, 2


@dataclass
class Episodes:
    """Stage visits and their weekly rows.

    Visit arrays have shape (n_visits,), row arrays shape (n_rows,). ``exposure`` is a CSR
    matrix (n_rows, n_assets) of time-varying share indicators; ``visit_shared`` (n_visits,
    n_assets) marks assets shared during the visit before its outcome; ``ever_shared``
    (n_opportunities, n_assets) marks assets shared on the opportunity at any time (what naive
    attribution looks at). Times are days since ``epoch``.
    """

    stage_names: tuple[str, ...]
    asset_ids: tuple[str, ...]
    opportunity_ids: tuple[str, ...]
    reps: tuple[str, ...]
    industries: tuple[str, ...]
    personas: tuple[str, ...]
    interval_days: float
    epoch: np.datetime64
    now: float
    # per opportunity
    opp_won: np.ndarray  # 1 won, 0 lost, -1 open
    ever_shared: sparse.csr_matrix
    # per visit
    visit_opp: np.ndarray
    visit_stage: np.ndarray
    visit_start: np.ndarray
    visit_end: np.ndarray
    visit_outcome: np.ndarray
    visit_rep: np.ndarray
    visit_industry: np.ndarray
    visit_persona: np.ndarray
    visit_log_amount: np.ndarray
    visit_prior_shares: np.ndarray
    visit_intervals: np.ndarray
    visit_shared: sparse.csr_matrix
    # per row
    row_visit: np.ndarray
    row_k: np.ndarray
    row_event: np.ndarray
    exposure: sparse.csr_matrix

    @property
    def n_visits(self) -> int:
        return int(self.visit_opp.size)

    @property
    def n_rows(self) -> int:
        return int(self.row_visit.size)

    def summary(self) -> dict[str, Any]:
        """Counts for reports: visits by outcome, rows, exposures."""
        out = self.visit_outcome
        return {"opportunities": len(self.opportunity_ids), "visits": self.n_visits,
                "advanced": int((out == ADVANCED).sum()), "exited": int((out == EXITED).sum()),
                "censored": int((out == CENSORED).sum()), "rows": self.n_rows,
                "exposed_rows": int(self.exposure.nnz), "assets": len(self.asset_ids)}


def build_episodes(opportunities: Any, stage_changes: Any, events: Any, stages: StageConfig,
                   *, interval_days: float = 7.0, now: Any = None,
                   asset_ids: Sequence[str] | None = None) -> Episodes:
    """Build stage visits, weekly rows and time-varying share exposures.

    Parameters
    ----------
    opportunities, stage_changes, events : mapping of columns, or sequence of dicts / records
        Fields ``OPPORTUNITY_FIELDS``, ``CHANGE_FIELDS`` and ``EVENT_FIELDS``. Only ``shared``
        events are used (others may be passed and are skipped).
    stages : StageConfig
        Maps pipeline stage names to buying stages; an unknown name raises.
    interval_days : float
        Width of one interval (default a week).
    now : datetime, optional
        Censoring time of open visits; default the latest time in the data.
    asset_ids : sequence of str, optional
        Column order of the exposure matrices; default the shared assets, sorted.

    Returns
    -------
    Episodes
    """
    if interval_days <= 0:
        raise ValidationError("interval_days must be positive")
    opp = columns(opportunities, OPPORTUNITY_FIELDS, "opportunities")
    chg = columns(stage_changes, CHANGE_FIELDS, "stage changes")
    evt = columns(events, EVENT_FIELDS, "events")
    epoch = np.datetime64("2000-01-01T00:00:00", "s")
    opps = read_opportunities(opp, stages, epoch)
    changes = read_changes(chg, opps.lookup, stages, epoch)
    shares = read_shares(evt, opps.lookup, epoch, asset_ids)
    now_days = now_in_days(now, epoch, opps, changes, shares)
    seg = _stage_segments(opps, changes)
    visits = _visits(seg, now_days)
    w = float(interval_days)
    weeks = _WeeklyRows.of(visits, w)
    keys = _TimeKeys.of(seg, visits, shares, now_days)
    visit_shared, exposure = _exposures(visits, weeks, shares, keys, w, len(shares.asset_ids))
    ever = sparse.csr_matrix((np.ones(shares.opp.size), (shares.opp, shares.asset)),
                             shape=(opps.ids.size, len(shares.asset_ids)))
    ever.data[:] = 1.0

    # Covariates of each visit, fixed at its entry.
    reps, rep_idx = index_values(opp["owner"])
    industries, ind_idx = index_values(opp["industry"])
    personas, per_idx = index_values(opp["persona"])
    log_amt = _log_amounts(opp["amount"])
    won = np.where(opps.status == "won", 1, np.where(opps.status == "lost", 0, -1))
    v_opp = visits.opp
    return Episodes(
        stage_names=tuple(stages.buying_stage_names), asset_ids=shares.asset_ids,
        opportunity_ids=tuple(opps.ids.tolist()), reps=reps, industries=industries,
        personas=personas, interval_days=w, epoch=epoch, now=now_days, opp_won=won,
        ever_shared=ever, visit_opp=v_opp, visit_stage=visits.stage, visit_start=visits.start,
        visit_end=visits.end, visit_outcome=visits.outcome.astype(np.int8),
        visit_rep=rep_idx[v_opp], visit_industry=ind_idx[v_opp], visit_persona=per_idx[v_opp],
        visit_log_amount=log_amt[v_opp], visit_prior_shares=keys.prior_shares(visits, shares),
        visit_intervals=weeks.n_int, visit_shared=visit_shared, row_visit=weeks.row_visit,
        row_k=weeks.row_k, row_event=weeks.row_event, exposure=exposure,
    )


@dataclass
class _Segments:
    """Stretches of one opportunity at one stage code, sorted by (opportunity, time)."""

    opp: np.ndarray
    time: np.ndarray
    code: np.ndarray

    def take(self, mask_or_order: np.ndarray) -> _Segments:
        return _Segments(self.opp[mask_or_order], self.time[mask_or_order],
                         self.code[mask_or_order])


def _stage_segments(opps: OpportunityArrays, changes: ChangeArrays) -> _Segments:
    """Each opportunity's timeline: initial stage, moves, and a closing move where missing."""
    seg, order_key = _initial_and_moves(opps, changes)
    seg = seg.take(np.lexsort((order_key, seg.time, seg.opp)))
    seg = _with_closing_moves(seg, opps)
    return _drop_after_close(_merge_same_stage(seg))


def _initial_and_moves(opps: OpportunityArrays,
                       changes: ChangeArrays) -> tuple[_Segments, np.ndarray]:
    """The initial stage (which starts at creation) of each opportunity, then every move.

    Returns the unsorted segments and a tie-break key that puts the initial stage first.
    """
    c = changes
    n_opp = opps.ids.size
    first = np.ones(c.opp.size, dtype=bool)
    first[1:] = c.opp[1:] != c.opp[:-1]
    has_chg = np.zeros(n_opp, dtype=bool)
    has_chg[c.opp] = True
    first_idx = np.full(n_opp, -1, dtype=np.int64)
    first_idx[c.opp[first]] = np.flatnonzero(first)
    init_code = opps.current.copy()
    init_time = np.where(np.isnan(opps.entered), opps.created, opps.entered)
    fi = first_idx[has_chg]
    created = opps.created[has_chg]
    init_code[has_chg] = np.where(c.has_from[fi], c.frm[fi], NO_STAGE)
    init_time[has_chg] = np.where(np.isnan(created) | (created > c.time[fi]), c.time[fi],
                                  created)
    init_ok = (init_code != NO_STAGE) & ~np.isnan(init_time)
    seg = _Segments(np.concatenate([np.flatnonzero(init_ok), c.opp]),
                    np.concatenate([init_time[init_ok], c.time]),
                    np.concatenate([init_code[init_ok], c.to]))
    return seg, np.concatenate([np.zeros(int(init_ok.sum())), np.ones(c.opp.size)])


def _with_closing_moves(seg: _Segments, opps: OpportunityArrays) -> _Segments:
    """Closed opportunities whose history lacks the terminal move get one at closed_at."""
    n_opp = opps.ids.size
    last_code = np.full(n_opp, NO_STAGE, dtype=np.int64)
    last_code[seg.opp] = seg.code  # the last assignment per opp wins (sorted by time)
    last_time = np.full(n_opp, np.nan)
    last_time[seg.opp] = seg.time
    term = np.where(opps.status == "won", WON_CODE,
                    np.where(opps.status == "lost", LOST_CODE, 0))
    add = (term < 0) & (last_code >= 0)
    add_time = np.where(np.isnan(opps.closed), np.fmax(opps.entered, last_time), opps.closed)
    add &= ~np.isnan(add_time)
    seg = _Segments(np.concatenate([seg.opp, np.flatnonzero(add)]),
                    np.concatenate([seg.time, add_time[add]]),
                    np.concatenate([seg.code, term[add]]))
    return seg.take(np.lexsort((np.arange(seg.opp.size), seg.time, seg.opp)))


def _merge_same_stage(seg: _Segments) -> _Segments:
    """Merge consecutive segments of the same buying stage (pipeline moves inside a stage)."""
    new = np.ones(seg.opp.size, dtype=bool)
    new[1:] = (seg.opp[1:] != seg.opp[:-1]) | (seg.code[1:] != seg.code[:-1])
    return seg.take(new)


def _drop_after_close(seg: _Segments) -> _Segments:
    """A terminal segment ends the opportunity's timeline: drop anything after it."""
    s_opp, s_code = seg.opp, seg.code
    after_term = np.zeros(s_opp.size, dtype=bool)
    seen = np.zeros(s_opp.size, dtype=bool)
    seen[1:] = (s_code[:-1] < 0) & (s_opp[1:] == s_opp[:-1])
    if seen.any():
        grp_start = np.r_[0, np.flatnonzero(s_opp[1:] != s_opp[:-1]) + 1]
        cum = np.cumsum(seen)
        base = np.repeat(cum[grp_start] - seen[grp_start],
                         np.diff(np.r_[grp_start, s_opp.size]))
        after_term = (cum - base) > 0
    return seg.take(~after_term)


@dataclass
class _Visits:
    """Stage visits, shape (n_visits,): opportunity, buying stage, start, end, outcome."""

    opp: np.ndarray
    stage: np.ndarray
    start: np.ndarray
    end: np.ndarray
    outcome: np.ndarray


def _visits(seg: _Segments, now_days: float) -> _Visits:
    """Turn non-terminal segments into visits ending at the next segment (or ``now``)."""
    s_opp, s_time, s_code = seg.opp, seg.time, seg.code
    nxt_same = np.zeros(s_opp.size, dtype=bool)
    nxt_same[:-1] = s_opp[1:] == s_opp[:-1]
    nxt_code = np.r_[s_code[1:], 0]
    nxt_time = np.r_[s_time[1:], now_days]
    is_visit = s_code >= 0
    v_stage = s_code[is_visit]
    v_end = np.where(nxt_same, nxt_time, now_days)[is_visit]
    nc = nxt_code[is_visit]
    v_out = np.where(~nxt_same[is_visit], CENSORED,
                     np.where((nc == WON_CODE) | (nc > v_stage), ADVANCED, EXITED))
    visits = _Visits(s_opp[is_visit], v_stage, s_time[is_visit], v_end, v_out)
    good = visits.end > visits.start
    return _Visits(visits.opp[good], visits.stage[good], visits.start[good], visits.end[good],
                   visits.outcome[good])


@dataclass
class _WeeklyRows:
    """Intervals per visit and the person-period rows (visit, interval k, event)."""

    n_int: np.ndarray
    offsets: np.ndarray
    row_visit: np.ndarray
    row_k: np.ndarray
    row_event: np.ndarray

    @classmethod
    def of(cls, visits: _Visits, w: float) -> _WeeklyRows:
        dur = (visits.end - visits.start) / w
        n_int = np.where(visits.outcome == CENSORED, np.floor(dur),
                         np.floor(dur) + 1).astype(np.int64)
        n_vis, n_rows = visits.opp.size, int(n_int.sum())
        offsets = np.r_[0, np.cumsum(n_int)[:-1]].astype(np.int64)
        row_visit = np.repeat(np.arange(n_vis), n_int)
        row_k = np.arange(n_rows) - offsets[row_visit]
        row_event = np.zeros(n_rows, dtype=np.int8)
        ended = (visits.outcome != CENSORED) & (n_int > 0)
        row_event[offsets[ended] + n_int[ended] - 1] = visits.outcome[ended]
        return cls(n_int, offsets, row_visit, row_k, row_event)


@dataclass
class _TimeKeys:
    """Sortable (opportunity, time) keys of visit starts and shares: ``opp * scale + time``."""

    scale: float
    visit: np.ndarray
    share: np.ndarray

    @classmethod
    def of(cls, seg: _Segments, visits: _Visits, shares: ShareArrays,
           now_days: float) -> _TimeKeys:
        s_time, e_time = seg.time, shares.time
        span = max(now_days, float(np.nanmax(s_time)) if s_time.size else 0.0) + 10.0
        lo = min(0.0, float(np.nanmin(s_time)) if s_time.size else 0.0,
                 float(e_time.min()) if e_time.size else 0.0) - 1.0
        scale = span - lo + 10.0
        return cls(scale, visits.opp * scale + (visits.start - lo),
                   shares.opp * scale + (e_time - lo))

    def prior_shares(self, visits: _Visits, shares: ShareArrays) -> np.ndarray:
        """Shares on the opportunity before each visit started, shape (n_visits,)."""
        sk = np.sort(self.share)
        prior = (np.searchsorted(sk, self.visit, side="left")
                 - np.searchsorted(sk, visits.opp * self.scale, side="left"))
        return prior.astype(float)


def _exposures(visits: _Visits, weeks: _WeeklyRows, shares: ShareArrays, keys: _TimeKeys,
               w: float, n_assets: int) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """Shares -> the visit in progress: (visit_shared (n_visits, n_assets), exposure rows)."""
    e_opp, e_time = shares.opp, shares.time
    v = np.searchsorted(keys.visit, keys.share, side="right") - 1
    inside = v >= 0
    inside[inside] &= ((visits.opp[v[inside]] == e_opp[inside])
                       & (e_time[inside] < visits.end[v[inside]]))
    sv, sa, st = v[inside], shares.asset[inside], e_time[inside]
    k0 = np.floor((st - visits.start[sv]) / w).astype(np.int64) + 1
    o = np.lexsort((k0, sa, sv))
    sv, sa, k0 = sv[o], sa[o], k0[o]
    firsts = np.ones(sv.size, dtype=bool)
    firsts[1:] = (sv[1:] != sv[:-1]) | (sa[1:] != sa[:-1])
    sv, sa, k0 = sv[firsts], sa[firsts], k0[firsts]
    visit_shared = sparse.csr_matrix((np.ones(sv.size), (sv, sa)),
                                     shape=(visits.opp.size, n_assets))
    cnt = np.maximum(weeks.n_int[sv] - k0, 0)
    total = int(cnt.sum())
    rows = np.repeat(weeks.offsets[sv] + k0 - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)
    exposure = sparse.csr_matrix((np.ones(total), (rows, np.repeat(sa, cnt))),
                                 shape=(weeks.row_visit.size, n_assets))
    return visit_shared, exposure


def _log_amounts(amounts: np.ndarray) -> np.ndarray:
    """``log1p`` of each amount; missing ones get the median."""
    amount = np.array([float(a) if a not in (None, "") else np.nan for a in amounts])
    log_amt = np.log1p(np.clip(amount, 0, None))
    fill = float(np.nanmedian(log_amt)) if np.isfinite(log_amt).any() else 0.0
    return np.where(np.isfinite(log_amt), log_amt, fill)
