"""Stage-visit episodes: visits, weekly rows and time-varying exposures without immortal time."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from recommender.domain import EventRecord, OpportunityRecord, StageChangeRecord
from recommender.errors import UnknownStageError
from recommender.learning.episodes import ADVANCED, CENSORED, EXITED, build_episodes
from recommender.stage_config import load_stage_config

T0 = datetime(2026, 1, 5, 9, 0)


def day(d: float) -> datetime:
    return T0 + timedelta(days=d)


@pytest.fixture(scope="module")
def stages():
    return load_stage_config(None)


def opp(oid, status="open", stage="Prospecting", closed=None, entered=0.0, owner="ann"):
    return OpportunityRecord(opportunity_id=oid, owner=owner, industry="retail", persona="cfo",
                             amount=50000.0, created_at=day(0), stage=stage,
                             stage_entered_at=day(entered), status=status,
                             closed_at=day(closed) if closed is not None else None)


def share(eid, oid, asset, d):
    return EventRecord(event_id=eid, opportunity_id=oid, asset_id=asset, event_type="shared",
                       occurred_at=day(d))


@pytest.fixture(scope="module")
def data():
    opps = [opp("A", "lost", "Closed Lost", closed=30, entered=30),
            opp("B", "open", "Qualification", entered=5),
            opp("C", "won", "Negotiation/Review", closed=12, entered=8),
            opp("D", "open", "Prospecting", entered=20)]
    changes = [
        StageChangeRecord("A", "Prospecting", "Needs Analysis", day(10)),
        StageChangeRecord("A", "Needs Analysis", "Closed Lost", day(30)),
        StageChangeRecord("B", "Prospecting", "Qualification", day(5)),
        StageChangeRecord("C", "Prospecting", "Negotiation/Review", day(8)),
        StageChangeRecord("D", "Prospecting", "Value Proposition", day(6)),
        StageChangeRecord("D", "Value Proposition", "Prospecting", day(20)),
    ]
    events = [
        share("e1", "A", "early", 2.0),        # awareness, week 0 -> exposed from week 1
        share("e2", "A", "late", 9.5),         # awareness week 1, same week as the advance
        share("e3", "A", "next", 11.0),        # belongs to the consideration visit
        share("e4", "A", "after", 31.0),       # after the deal was lost: no exposure
        share("e5", "B", "early", 1.0),
        share("e6", "C", "early", 9.0),
        EventRecord("e7", "A", "viewed-only", "viewed", day(3)),
    ]
    return opps, changes, events


def test_visits_outcomes_and_censoring(data, stages):
    ep = build_episodes(*data, stages, now=day(40))
    ids = np.array(ep.opportunity_ids)[ep.visit_opp]
    names = np.array(ep.stage_names)[ep.visit_stage]
    got = {(o, s): int(out) for o, s, out in zip(ids, names, ep.visit_outcome, strict=True)}
    assert got[("A", "awareness")] == ADVANCED
    assert got[("A", "consideration")] == EXITED  # lost
    assert got[("B", "awareness")] == CENSORED  # open: censored, not a loss
    assert got[("C", "awareness")] == ADVANCED and got[("C", "decision")] == ADVANCED  # won
    # D: awareness -> consideration -> back to awareness (a second, open visit).
    d = [(str(n), int(o)) for i, n, o in zip(ids, names, ep.visit_outcome, strict=True)
         if i == "D"]
    assert d == [("awareness", ADVANCED), ("consideration", EXITED), ("awareness", CENSORED)]
    # Prospecting -> Qualification stays one awareness visit for B (pipeline move inside).
    assert list(ids).count("B") == 1
    assert ep.opp_won.tolist() == [0, -1, 1, -1]


def test_weekly_rows(data, stages):
    ep = build_episodes(*data, stages, now=day(40))
    v = int(np.flatnonzero((np.array(ep.opportunity_ids)[ep.visit_opp] == "A")
                           & (ep.visit_stage == 0))[0])
    rows = np.flatnonzero(ep.row_visit == v)
    assert ep.row_k[rows].tolist() == [0, 1]  # 10 days: weeks 0 and 1, outcome in week 1
    assert ep.row_event[rows].tolist() == [0, ADVANCED]
    b = int(np.flatnonzero(np.array(ep.opportunity_ids)[ep.visit_opp] == "B")[0])
    rows_b = np.flatnonzero(ep.row_visit == b)
    assert len(rows_b) == 5  # 40 days open: 5 complete weeks, no outcome rows
    assert (ep.row_event[rows_b] == 0).all()


def test_exposure_only_after_the_share_and_before_the_outcome(data, stages):
    ep = build_episodes(*data, stages, now=day(40))
    a = {x: i for i, x in enumerate(ep.asset_ids)}
    assert "viewed-only" not in a
    oids = np.array(ep.opportunity_ids)[ep.visit_opp]
    aw = int(np.flatnonzero((oids == "A") & (ep.visit_stage == 0))[0])
    co = int(np.flatnonzero((oids == "A") & (ep.visit_stage == 1))[0])
    rows = np.flatnonzero(ep.row_visit == aw)
    exp = ep.exposure[rows].toarray()
    assert exp[:, a["early"]].tolist() == [0, 1]  # from the interval after the share
    assert exp[:, a["late"]].tolist() == [0, 0]  # shared in the week of the advance
    assert exp[:, a["next"]].sum() == 0  # shared after this visit's outcome
    assert ep.visit_shared[aw, a["late"]] == 1 and ep.visit_shared[aw, a["next"]] == 0
    assert ep.visit_shared[co, a["next"]] == 1
    # Shared after the deal was lost: not in any visit; naive attribution still sees it.
    assert ep.visit_shared[:, a["after"]].sum() == 0
    assert ep.ever_shared[ep.opportunity_ids.index("A"), a["after"]] == 1
    assert ep.visit_prior_shares[co] == 2  # shares before the consideration visit began


def test_column_mappings_and_dicts_give_the_same_episodes(data, stages):
    opps, changes, events = data
    as_dicts = ([vars(o) for o in opps], [vars(c) for c in changes], [vars(e) for e in events])
    cols = tuple({k: [getattr(r, k) for r in rows] for k in vars(rows[0])}
                 for rows in (opps, changes, events))
    a = build_episodes(*data, stages, now=day(40))
    for other in (as_dicts, cols):
        b = build_episodes(*other, stages, now=day(40))
        assert a.summary() == b.summary()
        assert (a.exposure != b.exposure).nnz == 0


def test_unknown_stage_is_an_error_naming_it(data, stages):
    opps, changes, events = data
    bad = [*changes, StageChangeRecord("B", "Qualification", "Daydreaming", day(7))]
    with pytest.raises(UnknownStageError, match="Daydreaming"):
        build_episodes(opps, bad, events, stages)


def test_closed_deal_without_terminal_history_row_is_closed_at_closed_at(stages):
    opps = [opp("E", "won", "Closed Won", closed=15, entered=15)]
    changes = [StageChangeRecord("E", "Prospecting", "Proposal/Price Quote", day(6))]
    ep = build_episodes(opps, changes, [], stages, now=day(40))
    assert ep.visit_outcome.tolist() == [ADVANCED, ADVANCED]
    assert ep.visit_end.max() == pytest.approx(ep.visit_start.min() + 15)


def test_iso_strings_with_offsets_are_read_as_utc(stages):
    opps = [{"opportunity_id": "F", "owner": "x", "industry": "", "persona": "", "amount": "",
             "created_at": "2026-01-05T10:00:00+01:00", "stage": "Prospecting",
             "stage_entered_at": "2026-01-05T09:00:00Z", "status": "open", "closed_at": ""}]
    ep = build_episodes(opps, [], [], stages, now=datetime(2026, 1, 20, 9, 0))
    assert ep.visit_end[0] - ep.visit_start[0] == pytest.approx(15.0)
    assert ep.visit_intervals.tolist() == [2]
