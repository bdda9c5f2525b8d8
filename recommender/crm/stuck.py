"""Stuck-deal detection: how long deals that advanced usually stayed in each pipeline stage.

An open opportunity is stuck when its days in the current stage exceed a per-stage threshold:
a percentile (75th by default) of the durations of completed visits to that stage, where a
visit counts when the deal left the stage by *advancing* (a later stage, or won). With fewer
than ``min_visits`` visits the threshold falls back to the pool of the stage's buying stage,
then to a fixed number of days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

import numpy as np
from sklearn.base import BaseEstimator

from recommender.errors import NotFittedError, ValidationError

DAY_SECONDS = 86400.0


def _ordinal(p: float) -> str:
    n = int(round(p))
    if abs(p - n) > 1e-9:
        return f"{p:g}th"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class StuckDetector(BaseEstimator):
    """Learn per-stage "usual time in stage" thresholds from completed stage visits.

    Parameters
    ----------
    percentile : float, default 75
        Percentile of advancing visits' durations used as the threshold, in (0, 100].
    min_visits : int, default 10
        Fewest visits a stage (or a buying-stage pool) needs for its own threshold.
    fallback_days : float, default 30
        Threshold when neither the stage nor its pool has ``min_visits`` visits.
    stage_groups : mapping of str to str, optional
        Pipeline stage → pool name (its buying stage) for the first fallback.

    Attributes
    ----------
    thresholds_ : dict[str, float]
        Stage → learned threshold in days, for stages with enough visits.
    pool_thresholds_ : dict[str, float]
        Pool → threshold in days, for pools with enough visits.
    n_visits_ : dict[str, int]
        Stage → number of completed advancing visits seen in ``fit``.
    pool_visits_ : dict[str, int]
        Pool → number of visits.
    """

    def __init__(self, percentile: float = 75.0, min_visits: int = 10,
                 fallback_days: float = 30.0, stage_groups: Mapping[str, str] | None = None):
        self.percentile = percentile
        self.min_visits = min_visits
        self.fallback_days = fallback_days
        self.stage_groups = stage_groups

    def fit(self, visits: Iterable[tuple[str, float]], y=None) -> StuckDetector:
        """Learn thresholds from ``(stage, days)`` pairs of completed advancing visits.

        Parameters
        ----------
        visits : iterable of (str, float)
            One pair per visit: the pipeline stage and the days spent in it (≥ 0).

        Returns
        -------
        self
        """
        if not 0.0 < float(self.percentile) <= 100.0:
            raise ValidationError(f"percentile {self.percentile} is not in (0, 100]")
        if int(self.min_visits) < 1:
            raise ValidationError(f"min_visits {self.min_visits} must be at least 1")
        if not float(self.fallback_days) > 0:
            raise ValidationError(f"fallback_days {self.fallback_days} must be positive")
        groups = dict(self.stage_groups or {})
        per_stage: dict[str, list[float]] = defaultdict(list)
        per_pool: dict[str, list[float]] = defaultdict(list)
        for stage, days in visits:
            days = float(days)
            if not np.isfinite(days) or days < 0:
                raise ValidationError(f"visit to {stage!r} has invalid duration {days!r} days")
            per_stage[stage].append(days)
            if stage in groups and groups[stage]:
                per_pool[groups[stage]].append(days)
        q = float(self.percentile)
        self.n_visits_ = {s: len(d) for s, d in per_stage.items()}
        self.pool_visits_ = {p: len(d) for p, d in per_pool.items()}
        self.thresholds_ = {
            s: float(np.percentile(d, q)) for s, d in per_stage.items()
            if len(d) >= self.min_visits
        }
        self.pool_thresholds_ = {
            p: float(np.percentile(d, q)) for p, d in per_pool.items()
            if len(d) >= self.min_visits
        }
        return self

    def threshold(self, stage: str) -> tuple[float, str]:
        """Return ``(threshold_days, basis)`` for ``stage``; basis explains where it came from."""
        if not hasattr(self, "thresholds_"):
            raise NotFittedError("StuckDetector is not fitted; call fit() with stage visits")
        nth = _ordinal(float(self.percentile))
        seen = self.n_visits_.get(stage, 0)
        if stage in self.thresholds_:
            return self.thresholds_[stage], (
                f"{nth} percentile of {seen} deals that advanced from {stage}")
        pool = (self.stage_groups or {}).get(stage)
        if pool and pool in self.pool_thresholds_:
            return self.pool_thresholds_[pool], (
                f"{nth} percentile of {self.pool_visits_[pool]} {pool}-stage visits "
                f"(only {seen} for {stage})")
        return float(self.fallback_days), (
            f"default of {float(self.fallback_days):g} days (only {seen} advancing visits "
            f"recorded for {stage})")

    def assess(self, stage: str, days_in_stage: float) -> tuple[bool, float, str]:
        """Return ``(stuck, threshold_days, basis)`` for a deal ``days_in_stage`` into ``stage``."""
        threshold, basis = self.threshold(stage)
        return bool(float(days_in_stage) > threshold), threshold, basis


def completed_visits(
    history: Iterable[tuple[datetime | None, Sequence[tuple[str | None, str, datetime]]]],
    stage_rank: Callable[[str], tuple[int, str | None] | None],
) -> list[tuple[str, float]]:
    """Turn opportunities' stage histories into completed advancing visits.

    Parameters
    ----------
    history : iterable of (created_at, changes)
        Per opportunity: its creation time (or None) and its stage changes
        ``(from_stage, to_stage, changed_at)`` sorted by time.
    stage_rank : callable
        Stage name → ``(order, outcome)`` (``outcome`` is ``won``/``lost`` for terminal stages),
        or None for a stage it does not know (such visits are ignored).

    Returns
    -------
    list of (stage, days)
        One pair per visit that ended by moving to a later open stage or to a won stage. The
        first stage's visit starts at ``created_at`` when it is known.
    """
    out: list[tuple[str, float]] = []
    for created_at, changes in history:
        if not changes:
            continue
        entered_stage: str | None = changes[0][0]
        entered_at: datetime | None = created_at if entered_stage else None
        for from_stage, to_stage, changed_at in changes:
            stage = entered_stage if entered_stage is not None else from_stage
            if stage is not None and entered_at is not None:
                here, there = stage_rank(stage), stage_rank(to_stage)
                advanced = (
                    here is not None and there is not None and here[1] is None
                    and (there[1] == "won" or (there[1] is None and there[0] > here[0]))
                )
                if advanced:
                    days = (changed_at - entered_at).total_seconds() / DAY_SECONDS
                    if days >= 0:
                        out.append((stage, days))
            entered_stage, entered_at = to_stage, changed_at
    return out
