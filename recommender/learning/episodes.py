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

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from scipy import sparse

from recommender.domain import StageConfig, utc_naive
from recommender.errors import ValidationError

CENSORED, ADVANCED, EXITED = 0, 1, 2
WON_CODE, LOST_CODE = -1, -2

OPPORTUNITY_FIELDS = ("opportunity_id", "owner", "industry", "persona", "amount", "created_at",
                      "stage", "stage_entered_at", "status", "closed_at")
CHANGE_FIELDS = ("opportunity_id", "from_stage", "to_stage", "changed_at")
EVENT_FIELDS = ("opportunity_id", "asset_id", "event_type", "occurred_at")


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


def _columns(data: Any, names: Sequence[str], what: str) -> dict[str, np.ndarray]:
    """Column arrays from a mapping of columns, a list of dicts or a list of records."""
    if isinstance(data, Mapping):
        missing = [n for n in names if n not in data]
        if missing:
            raise ValidationError(f"{what}: missing column(s) {', '.join(missing)}")
        return {n: np.asarray(data[n], dtype=object) for n in names}
    rows = list(data)
    if rows and isinstance(rows[0], Mapping):
        return {n: np.array([r.get(n) for r in rows], dtype=object) for n in names}
    if rows and isinstance(rows[0], tuple) and not hasattr(rows[0], "_fields"):
        if len(rows[0]) != len(names):
            raise ValidationError(f"{what}: tuples must hold {', '.join(names)}")
        cols = list(zip(*rows, strict=True))
        return {n: np.array(cols[i], dtype=object) for i, n in enumerate(names)}
    return {n: np.array([getattr(r, n, None) for r in rows], dtype=object) for n in names}


def _days(values: np.ndarray, epoch: np.datetime64, what: str) -> np.ndarray:
    """Float days since ``epoch``; None/empty become NaN. Accepts datetimes or ISO strings.

    Aware values (``+02:00``, ``Z``) are converted to naive UTC, Baton's stored form.
    """
    vals = np.array([None if v is None or v == "" else v for v in values], dtype=object)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            stamps = np.asarray(vals, dtype="datetime64[s]")
    except (ValueError, TypeError, DeprecationWarning, UserWarning):
        try:
            stamps = np.array([None if v is None else np.datetime64(utc_naive(
                v if isinstance(v, datetime) else datetime.fromisoformat(str(v))), "s")
                for v in vals], dtype="datetime64[s]")
        except (ValueError, TypeError) as exc:
            raise ValidationError(f"{what}: unreadable timestamp ({exc})") from None
    out = (stamps - epoch).astype("timedelta64[s]").astype(float) / 86400.0
    out[np.isnat(stamps)] = np.nan
    return out


def _codes(names: np.ndarray, stages: StageConfig) -> np.ndarray:
    """Buying-stage index per stage name; WON_CODE / LOST_CODE for terminal stages."""
    buying = stages.buying_stage_names
    uniq, inv = np.unique(np.asarray(names, dtype=str), return_inverse=True)
    codes = np.empty(uniq.size, dtype=np.int64)
    for i, name in enumerate(uniq):
        stage = stages.resolve_buying_stage(name)  # unknown names raise, naming the stage
        if stage is not None:
            codes[i] = buying.index(stage)
        else:
            codes[i] = WON_CODE if stages.pipeline_stage(name).outcome == "won" else LOST_CODE
    return codes[inv]


def _index(values: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    uniq, inv = np.unique(np.asarray(["" if v is None else str(v) for v in values]),
                          return_inverse=True)
    return tuple(uniq.tolist()), inv.astype(np.int64)


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
    opp = _columns(opportunities, OPPORTUNITY_FIELDS, "opportunities")
    chg = _columns(stage_changes, CHANGE_FIELDS, "stage changes")
    evt = _columns(events, EVENT_FIELDS, "events")
    epoch = np.datetime64("2000-01-01T00:00:00", "s")
    opp_ids = np.asarray([str(x) for x in opp["opportunity_id"]], dtype=object)
    n_opp = opp_ids.size
    lookup = {oid: i for i, oid in enumerate(opp_ids)}
    if len(lookup) != n_opp:
        raise ValidationError("opportunities: duplicate opportunity_id")
    created = _days(opp["created_at"], epoch, "opportunities.created_at")
    entered = _days(opp["stage_entered_at"], epoch, "opportunities.stage_entered_at")
    closed = _days(opp["closed_at"], epoch, "opportunities.closed_at")
    status = np.asarray([str(s or "open").strip().lower() for s in opp["status"]])
    current = _codes(opp["stage"], stages) if n_opp else np.zeros(0, dtype=np.int64)

    c_opp = np.array([lookup.get(str(x), -1) for x in chg["opportunity_id"]], dtype=np.int64)
    keep = c_opp >= 0
    c_opp = c_opp[keep]
    c_time = _days(chg["changed_at"][keep], epoch, "stage_changes.changed_at")
    c_to = _codes(chg["to_stage"][keep], stages) if c_opp.size else c_opp
    c_from_raw = chg["from_stage"][keep]
    has_from = np.array([bool(x and str(x).strip()) for x in c_from_raw], dtype=bool)
    c_from = np.full(c_opp.size, -99, dtype=np.int64)
    if has_from.any():
        c_from[has_from] = _codes(c_from_raw[has_from], stages)
    order = np.lexsort((c_time, c_opp))
    c_opp, c_time, c_to, c_from, has_from = (a[order] for a in (c_opp, c_time, c_to, c_from,
                                                                 has_from))

    e_type = np.asarray([str(x) for x in evt["event_type"]])
    is_share = e_type == "shared"
    e_opp = np.array([lookup.get(str(x), -1) for x in evt["opportunity_id"][is_share]],
                     dtype=np.int64)
    e_asset_raw = np.asarray([str(x) for x in evt["asset_id"][is_share]])
    e_time = _days(evt["occurred_at"][is_share], epoch, "events.occurred_at")
    ok = (e_opp >= 0) & ~np.isnan(e_time)
    e_opp, e_asset_raw, e_time = e_opp[ok], e_asset_raw[ok], e_time[ok]
    if asset_ids is None:
        asset_ids = tuple(sorted(set(e_asset_raw.tolist())))
    asset_ids = tuple(asset_ids)
    a_lookup = {a: i for i, a in enumerate(asset_ids)}
    e_asset = np.array([a_lookup.get(a, -1) for a in e_asset_raw], dtype=np.int64)
    ok = e_asset >= 0
    e_opp, e_asset, e_time = e_opp[ok], e_asset[ok], e_time[ok]

    if now is None:
        candidates = [a[~np.isnan(a)] for a in (created, entered, closed, c_time, e_time)]
        candidates = [a.max() for a in candidates if a.size]
        now_days = float(max(candidates)) if candidates else 0.0
    else:
        now_days = float(_days(np.array([now], dtype=object), epoch, "now")[0])

    # Segments: (opp, time, code, order). The initial stage starts at creation.
    first = np.ones(c_opp.size, dtype=bool)
    first[1:] = c_opp[1:] != c_opp[:-1]
    has_chg = np.zeros(n_opp, dtype=bool)
    has_chg[c_opp] = True
    first_idx = np.full(n_opp, -1, dtype=np.int64)
    first_idx[c_opp[first]] = np.flatnonzero(first)
    init_code = current.copy()
    init_time = np.where(np.isnan(entered), created, entered)
    w_chg = has_chg
    fi = first_idx[w_chg]
    init_code[w_chg] = np.where(has_from[fi], c_from[fi], -99)
    init_time[w_chg] = np.where(np.isnan(created[w_chg]) | (created[w_chg] > c_time[fi]),
                                c_time[fi], created[w_chg])
    init_ok = (init_code != -99) & ~np.isnan(init_time)
    s_opp = np.concatenate([np.flatnonzero(init_ok), c_opp])
    s_time = np.concatenate([init_time[init_ok], c_time])
    s_code = np.concatenate([init_code[init_ok], c_to])
    s_ord = np.concatenate([np.zeros(int(init_ok.sum())), np.ones(c_opp.size)])
    # Closed opportunities whose history lacks the terminal move get one at closed_at.
    last_code = np.full(n_opp, -99, dtype=np.int64)
    o = np.lexsort((s_ord, s_time, s_opp))
    s_opp, s_time, s_code = s_opp[o], s_time[o], s_code[o]
    last_code[s_opp] = s_code  # the last assignment per opp wins (sorted by time)
    last_time = np.full(n_opp, np.nan)
    last_time[s_opp] = s_time
    term = np.where(status == "won", WON_CODE, np.where(status == "lost", LOST_CODE, 0))
    add = (term < 0) & (last_code >= 0)
    add_time = np.where(np.isnan(closed), np.fmax(entered, last_time), closed)
    add &= ~np.isnan(add_time)
    s_opp = np.concatenate([s_opp, np.flatnonzero(add)])
    s_time = np.concatenate([s_time, add_time[add]])
    s_code = np.concatenate([s_code, term[add]])
    o = np.lexsort((np.arange(s_opp.size), s_time, s_opp))
    s_opp, s_time, s_code = s_opp[o], s_time[o], s_code[o]
    # Merge consecutive segments of the same buying stage (pipeline moves inside a stage).
    new = np.ones(s_opp.size, dtype=bool)
    new[1:] = (s_opp[1:] != s_opp[:-1]) | (s_code[1:] != s_code[:-1])
    s_opp, s_time, s_code = s_opp[new], s_time[new], s_code[new]
    # A terminal segment ends the opportunity's timeline: drop anything after it.
    after_term = np.zeros(s_opp.size, dtype=bool)
    seen = np.zeros(s_opp.size, dtype=bool)
    seen[1:] = (s_code[:-1] < 0) & (s_opp[1:] == s_opp[:-1])
    if seen.any():
        grp_start = np.r_[0, np.flatnonzero(s_opp[1:] != s_opp[:-1]) + 1]
        cum = np.cumsum(seen)
        base = np.repeat(cum[grp_start] - seen[grp_start],
                         np.diff(np.r_[grp_start, s_opp.size]))
        after_term = (cum - base) > 0
    s_opp, s_time, s_code = s_opp[~after_term], s_time[~after_term], s_code[~after_term]

    nxt_same = np.zeros(s_opp.size, dtype=bool)
    nxt_same[:-1] = s_opp[1:] == s_opp[:-1]
    nxt_code = np.r_[s_code[1:], 0]
    nxt_time = np.r_[s_time[1:], now_days]
    is_visit = s_code >= 0
    v_opp = s_opp[is_visit]
    v_stage = s_code[is_visit]
    v_start = s_time[is_visit]
    v_end = np.where(nxt_same, nxt_time, now_days)[is_visit]
    nc = nxt_code[is_visit]
    v_out = np.where(~nxt_same[is_visit], CENSORED,
                     np.where((nc == WON_CODE) | (nc > v_stage), ADVANCED, EXITED))
    good = v_end > v_start
    v_opp, v_stage, v_start, v_end, v_out = (a[good] for a in (v_opp, v_stage, v_start, v_end,
                                                                v_out))
    w = float(interval_days)
    dur = (v_end - v_start) / w
    n_int = np.where(v_out == CENSORED, np.floor(dur), np.floor(dur) + 1).astype(np.int64)

    n_vis, n_rows = v_opp.size, int(n_int.sum())
    offsets = np.r_[0, np.cumsum(n_int)[:-1]].astype(np.int64)
    row_visit = np.repeat(np.arange(n_vis), n_int)
    row_k = np.arange(n_rows) - offsets[row_visit]
    row_event = np.zeros(n_rows, dtype=np.int8)
    ended = (v_out != CENSORED) & (n_int > 0)
    row_event[offsets[ended] + n_int[ended] - 1] = v_out[ended]

    # Shares -> visits: the visit of that opportunity in progress at the share time.
    span = max(now_days, float(np.nanmax(s_time)) if s_time.size else 0.0) + 10.0
    lo = min(0.0, float(np.nanmin(s_time)) if s_time.size else 0.0,
             float(e_time.min()) if e_time.size else 0.0) - 1.0
    scale = span - lo + 10.0
    v_key = v_opp * scale + (v_start - lo)
    e_key = e_opp * scale + (e_time - lo)
    v = np.searchsorted(v_key, e_key, side="right") - 1
    inside = v >= 0
    inside[inside] &= (v_opp[v[inside]] == e_opp[inside]) & (e_time[inside] < v_end[v[inside]])
    sv, sa, st = v[inside], e_asset[inside], e_time[inside]
    k0 = np.floor((st - v_start[sv]) / w).astype(np.int64) + 1
    o = np.lexsort((k0, sa, sv))
    sv, sa, k0 = sv[o], sa[o], k0[o]
    firsts = np.ones(sv.size, dtype=bool)
    firsts[1:] = (sv[1:] != sv[:-1]) | (sa[1:] != sa[:-1])
    sv, sa, k0 = sv[firsts], sa[firsts], k0[firsts]
    n_assets = len(asset_ids)
    visit_shared = sparse.csr_matrix((np.ones(sv.size), (sv, sa)), shape=(n_vis, n_assets))
    cnt = np.maximum(n_int[sv] - k0, 0)
    total = int(cnt.sum())
    rows = np.repeat(offsets[sv] + k0 - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)
    exposure = sparse.csr_matrix((np.ones(total), (rows, np.repeat(sa, cnt))),
                                 shape=(n_rows, n_assets))
    ever = sparse.csr_matrix((np.ones(e_opp.size), (e_opp, e_asset)), shape=(n_opp, n_assets))
    ever.data[:] = 1.0

    # Covariates of each visit, fixed at its entry.
    reps, rep_idx = _index(opp["owner"])
    industries, ind_idx = _index(opp["industry"])
    personas, per_idx = _index(opp["persona"])
    amount = np.array([float(a) if a not in (None, "") else np.nan for a in opp["amount"]])
    log_amt = np.log1p(np.clip(amount, 0, None))
    fill = float(np.nanmedian(log_amt)) if np.isfinite(log_amt).any() else 0.0
    log_amt = np.where(np.isfinite(log_amt), log_amt, fill)
    sk = np.sort(e_key)
    prior = (np.searchsorted(sk, v_key, side="left")
             - np.searchsorted(sk, v_opp * scale, side="left"))
    won = np.where(status == "won", 1, np.where(status == "lost", 0, -1))
    return Episodes(
        stage_names=tuple(stages.buying_stage_names), asset_ids=asset_ids,
        opportunity_ids=tuple(opp_ids.tolist()), reps=reps, industries=industries,
        personas=personas, interval_days=w, epoch=epoch, now=now_days, opp_won=won,
        ever_shared=ever, visit_opp=v_opp, visit_stage=v_stage, visit_start=v_start,
        visit_end=v_end, visit_outcome=v_out.astype(np.int8), visit_rep=rep_idx[v_opp],
        visit_industry=ind_idx[v_opp], visit_persona=per_idx[v_opp],
        visit_log_amount=log_amt[v_opp], visit_prior_shares=prior.astype(float),
        visit_intervals=n_int, visit_shared=visit_shared, row_visit=row_visit, row_k=row_k,
        row_event=row_event, exposure=exposure,
    )
