"""Funnel and time-in-stage summaries from stage histories.

A *stage visit* runs from entering a pipeline stage to leaving it. It ends ``advanced`` (to a
later stage or won), ``lost``, ``moved back`` (to an earlier stage) or is still ``open``
(censored: its time in stage so far is a lower bound and is reported apart, never mixed with
finished visits). Conversion of a stage = advanced / (advanced + lost + moved back).

Plain data in, plain data out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np

ADVANCED, LOST, BACK, OPEN = "advanced", "lost", "moved back", "open"


@dataclass(frozen=True)
class StageInfo:
    """A pipeline stage's place in its pipeline: order, buying stage, terminal outcome."""

    name: str
    order: int
    buying_stage: str | None
    outcome: str | None = None


@dataclass(frozen=True)
class StageVisit:
    """One stay of an opportunity in a pipeline stage."""

    opportunity_id: str
    stage: str
    entered_at: datetime
    left_at: datetime | None
    result: str

    def days(self, now: datetime) -> float:
        end = self.left_at or now
        return max(0.0, (end - self.entered_at).total_seconds() / 86400.0)


@dataclass(frozen=True)
class FunnelRow:
    """One pipeline stage of the funnel."""

    stage: str
    buying_stage: str | None
    entered: int
    advanced: int
    lost: int
    moved_back: int
    open: int
    conversion: float | None
    median_days: float | None
    p75_days: float | None
    open_median_days: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stage_visits(history: Mapping[str, Sequence[tuple[str, datetime]]],
                 stages: Mapping[str, StageInfo], status: Mapping[str, str],
                 closed_at: Mapping[str, datetime | None] | None = None) -> list[StageVisit]:
    """Cut each opportunity's stage history into stage visits.

    Parameters
    ----------
    history : mapping opportunity_id -> [(pipeline stage name, entered at), ...]
        Entries into stages, in time order; names are keys of ``stages``.
    stages : mapping name -> StageInfo
    status : mapping opportunity_id -> "open" | "won" | "lost"
    closed_at : mapping opportunity_id -> close time, optional
        Ends the last visit of a deal closed without a terminal stage change.

    Returns
    -------
    list of StageVisit
        Visits of non-terminal stages only.
    """
    visits = []
    closed_at = closed_at or {}
    for opp, entries in history.items():
        for n, (name, entered) in enumerate(entries):
            info = stages[name]
            if info.outcome is not None:
                continue
            if n + 1 < len(entries):
                nxt_name, left = entries[n + 1]
                nxt = stages[nxt_name]
                if nxt.outcome == "won" or (nxt.outcome is None and nxt.order > info.order):
                    result = ADVANCED
                elif nxt.outcome == "lost":
                    result = LOST
                elif nxt.order == info.order:
                    continue  # a repeated entry of the same stage: not a move
                else:
                    result = BACK
                visits.append(StageVisit(opp, name, entered, left, result))
                continue
            final = status.get(opp, "open")
            if final == "open":
                visits.append(StageVisit(opp, name, entered, None, OPEN))
            else:
                left = closed_at.get(opp) or entered
                visits.append(StageVisit(opp, name, entered, left,
                                         ADVANCED if final == "won" else LOST))
    return visits


def funnel_rows(visits: Iterable[StageVisit], stages: Sequence[StageInfo],
                now: datetime) -> list[FunnelRow]:
    """Summarise visits per non-terminal pipeline stage, in pipeline order.

    Parameters
    ----------
    visits : iterable of StageVisit
    stages : sequence of StageInfo
    now : datetime
        Naive UTC "now", for the time open visits have spent so far.
    """
    by_stage: dict[str, list[StageVisit]] = {s.name: [] for s in stages}
    for visit in visits:
        by_stage.setdefault(visit.stage, []).append(visit)
    rows = []
    for info in sorted(stages, key=lambda s: s.order):
        if info.outcome is not None:
            continue
        stage_visits_ = by_stage.get(info.name, [])
        counts = {r: sum(v.result == r for v in stage_visits_) for r in (ADVANCED, LOST, BACK,
                                                                           OPEN)}
        finished = np.array([v.days(now) for v in stage_visits_ if v.result != OPEN])
        still = np.array([v.days(now) for v in stage_visits_ if v.result == OPEN])
        resolved = counts[ADVANCED] + counts[LOST] + counts[BACK]
        rows.append(FunnelRow(
            stage=info.name, buying_stage=info.buying_stage, entered=len(stage_visits_),
            advanced=counts[ADVANCED], lost=counts[LOST], moved_back=counts[BACK],
            open=counts[OPEN], conversion=counts[ADVANCED] / resolved if resolved else None,
            median_days=float(np.median(finished)) if len(finished) else None,
            p75_days=float(np.percentile(finished, 75)) if len(finished) else None,
            open_median_days=float(np.median(still)) if len(still) else None,
        ))
    return rows
