"""The stage funnel: stage visits and their results, conversion and days in stage."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from recommender.learning.funnel import (
    ADVANCED,
    BACK,
    LOST,
    OPEN,
    StageInfo,
    funnel_rows,
    stage_visits,
)

T0 = datetime(2026, 1, 1)
INFOS = {
    "Prospecting": StageInfo("Prospecting", 0, "awareness"),
    "Needs Analysis": StageInfo("Needs Analysis", 1, "consideration"),
    "Proposal": StageInfo("Proposal", 2, "decision"),
    "Closed Won": StageInfo("Closed Won", 3, None, "won"),
    "Closed Lost": StageInfo("Closed Lost", 4, None, "lost"),
}


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def test_stage_visits_and_funnel():
    history = {
        "won": [("Prospecting", day(0)), ("Needs Analysis", day(10)), ("Proposal", day(30)),
                ("Closed Won", day(40))],
        "lost": [("Prospecting", day(0)), ("Needs Analysis", day(20)), ("Closed Lost", day(26))],
        "back": [("Prospecting", day(0)), ("Needs Analysis", day(4)), ("Prospecting", day(6))],
        "closed-no-row": [("Prospecting", day(0))],
    }
    status = {"won": "won", "lost": "lost", "back": "open", "closed-no-row": "lost"}
    visits = stage_visits(history, INFOS, status, {"closed-no-row": day(3)})
    results = {(v.opportunity_id, v.stage, v.entered_at): v.result for v in visits}
    assert results[("won", "Proposal", day(30))] == ADVANCED
    assert results[("lost", "Needs Analysis", day(20))] == LOST
    assert results[("back", "Needs Analysis", day(4))] == BACK
    assert results[("back", "Prospecting", day(6))] == OPEN
    assert results[("closed-no-row", "Prospecting", day(0))] == LOST
    rows = {r.stage: r for r in funnel_rows(visits, list(INFOS.values()), now=day(16))}
    assert list(rows) == ["Prospecting", "Needs Analysis", "Proposal"]
    pro = rows["Prospecting"]
    assert (pro.entered, pro.advanced, pro.lost, pro.open) == (5, 3, 1, 1)
    assert pro.conversion == pytest.approx(3 / 4)
    assert pro.median_days == pytest.approx(7.0)  # finished visits: 10, 20, 4, 3 days
    assert pro.open_median_days == pytest.approx(10.0)  # open since day 6, now day 16
    needs = rows["Needs Analysis"]
    assert (needs.advanced, needs.lost, needs.moved_back) == (1, 1, 1)
    assert rows["Proposal"].conversion == 1.0
