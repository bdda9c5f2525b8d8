"""Logged recommendation lists for off-policy evaluation, built from plain rows.

**Logged lists.** Each ``recommended`` event with a propensity is one shown item; items with
the same list key (the recommendation id, or for imported rows without one the deal, time and
buying stage) form one list. An item's propensity is its marginal probability of being in the
list under the logging policy.

**Reward** (per shown item, see ``REWARDS``):

- ``engaged``: the rep shared the asset, or marked it helpful, on that deal within the window
  after the recommendation. Item-level, so item-wise importance weighting is valid.
- ``advanced``: the asset was shared within the window *and* the deal then left the list's
  buying stage forward (a later buying stage, or won) within the window. Closer to the outcome,
  noisier, and it bends the item-independence assumption of the item-wise estimators.

**Target policy**: a callable ``(buying_stage, candidates, k, context) -> {asset_id: inclusion
probability}`` asked once per list, with the stage's logged assets as candidates (so every
candidate had a positive logging probability). ``GreedyByEffect`` is the current ranking.

Plain rows in, ``LoggedLists`` out (what ``recommender.learning.ope`` estimates from); no
database, no web.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

import numpy as np

from recommender.domain import StageConfig
from recommender.errors import UnknownStageError, ValidationError

REWARDS: tuple[str, ...] = ("engaged", "advanced")
# Events that count as the rep acting on a shown asset, per reward.
TOUCH_EVENTS: dict[str, tuple[str, ...]] = {"engaged": ("shared", "helpful"),
                                            "advanced": ("shared",)}

TargetPolicy = Callable[[str, list[str], int, Mapping[str, str]], Mapping[str, float]]


@dataclass(frozen=True)
class LoggedLists:
    """Logged recommendation lists, one row per shown item.

    Attributes
    ----------
    list_index : ndarray of int, shape (n,)
        Which list (0..L-1) each shown item belongs to.
    item_keys : sequence of hashable, length n
        The reward model's key of each shown item (e.g. ``(buying_stage, asset_id)``).
    rewards : ndarray of float, shape (n,)
    propensities : ndarray of float, shape (n,)
        Logging policy's marginal probability of showing the item, in (0, 1].
    target : sequence of dict, length L
        Per list, the target policy's inclusion probability of each candidate key
        (keys absent from a dict have probability 0).
    clusters : ndarray, shape (L,), optional
        Resampling unit of each list (e.g. its opportunity); default: each list alone.
    """

    list_index: np.ndarray
    item_keys: Sequence[Hashable]
    rewards: np.ndarray
    propensities: np.ndarray
    target: Sequence[dict]
    clusters: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.rewards)
        if n == 0:
            raise ValidationError("no logged items with propensities to evaluate")
        per_item = {"list_index": self.list_index, "item_keys": self.item_keys,
                    "propensities": self.propensities}
        for name, values in per_item.items():
            if len(values) != n:
                raise ValidationError(f"{name} has {len(values)} rows; rewards has {n}")
        p = np.asarray(self.propensities, dtype=np.float64)
        bad = np.flatnonzero(~((p > 0) & (p <= 1)))
        if len(bad):
            raise ValidationError(f"propensity {p[bad[0]]!r} of logged item {int(bad[0])} is "
                                  "not in (0, 1]")
        idx = np.asarray(self.list_index)
        if idx.min() < 0 or idx.max() >= len(self.target):
            raise ValidationError(f"list_index must be within 0..{len(self.target) - 1}")
        if self.clusters is not None and len(self.clusters) != len(self.target):
            raise ValidationError("clusters must have one entry per list")

    @property
    def n_lists(self) -> int:
        return len(self.target)


class ShownItem(NamedTuple):
    """One asset shown in a logged list (a ``recommended`` event with a propensity)."""

    opportunity_id: str
    asset_id: str
    buying_stage: str
    shown_at: datetime
    propensity: float
    list_key: Hashable


class EffectPosterior(Protocol):
    """What the greedy target needs of a fitted effect model."""

    def posterior(self, asset_ids: Sequence[str], buying_stage: str,
                  context: Mapping | None = None) -> tuple[np.ndarray, np.ndarray]: ...


class GreedyByEffect:
    """The current ranking as a target policy: the ``k`` assets of largest posterior mean effect.

    Segment-aware (the context's persona and industry reach ``model.posterior``); assets with
    no estimate (NaN) rank last. Rankings are cached per (stage, candidates, context).

    Parameters
    ----------
    model : fitted effect model with ``posterior(asset_ids, buying_stage, context)``
    """

    description = "greedy by posterior mean effect among logged assets of the stage"

    def __init__(self, model: EffectPosterior):
        self.model = model
        self._rankings: dict[tuple, list[str]] = {}

    def ranking(self, buying_stage: str, candidates: list[str],
                context: Mapping[str, str]) -> list[str]:
        """Return ``candidates`` ordered by posterior mean effect, largest first (stable)."""
        key = (buying_stage, tuple(candidates), tuple(sorted(context.items())))
        if key not in self._rankings:
            mean, _sd = self.model.posterior(candidates, buying_stage, dict(context))
            mean = np.nan_to_num(np.asarray(mean, dtype=np.float64), nan=-np.inf)
            self._rankings[key] = [candidates[j] for j in np.argsort(-mean, kind="stable")]
        return self._rankings[key]

    def __call__(self, buying_stage: str, candidates: list[str], k: int,
                 context: Mapping[str, str]) -> dict[str, float]:
        return {a: 1.0 for a in self.ranking(buying_stage, candidates, context)[:k]}


def forward_moves(changes: Iterable[tuple[str, str, datetime]],
                  pipelines: Mapping[str, str | None],
                  stages: StageConfig) -> dict[str, list[tuple[datetime, int]]]:
    """Return per deal its stage moves as ``(time, rank)``, rank = buying stage order.

    Parameters
    ----------
    changes : iterable of (opportunity_id, to_stage, changed_at), in time order
    pipelines : mapping opportunity_id -> pipeline name (None: look the stage up anywhere)
    stages : StageConfig

    Returns
    -------
    dict
        ``opportunity_id -> [(changed_at, rank)]``; won ranks past the last buying stage, a
        closed-lost or unmapped stage ranks -1. Stage names unknown to ``stages`` are skipped.
    """
    order = {s: i for i, s in enumerate(stages.buying_stage_names)}
    forward: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for opp_id, to_stage, when in changes:
        try:
            ps = stages.pipeline_stage(to_stage, pipelines.get(opp_id))
        except UnknownStageError:  # unknown stage names carry no signal here
            continue
        rank = len(order) if ps.outcome == "won" else order.get(ps.buying_stage or "", -1)
        forward[opp_id].append((when, rank))
    return forward


def item_rewards(shown: Sequence[ShownItem], touches: Mapping[tuple[str, str], list[datetime]],
                 forward: Mapping[str, list[tuple[datetime, int]]], stage_names: Sequence[str],
                 reward: str, window: timedelta) -> np.ndarray:
    """Return each shown item's reward, 0 or 1.

    Parameters
    ----------
    shown : sequence of ShownItem, length n
    touches : mapping (opportunity_id, asset_id) -> sorted times of its ``TOUCH_EVENTS[reward]``
    forward : mapping opportunity_id -> ``forward_moves`` (used by ``reward="advanced"``)
    stage_names : sequence of str
        Buying stages in order.
    reward : {"engaged", "advanced"}
    window : timedelta
        How long after the recommendation a touch (and an advance) still counts.

    Returns
    -------
    ndarray of float, shape (n,)
    """
    order = {s: i for i, s in enumerate(stage_names)}

    def reward_of(item: ShownItem) -> float:
        times = touches.get((item.opportunity_id, item.asset_id), [])
        i = bisect_left(times, item.shown_at)
        if i >= len(times) or times[i] > item.shown_at + window:
            return 0.0
        if reward == "engaged":
            return 1.0
        shared_at, until = times[i], item.shown_at + window
        stage = order.get(item.buying_stage, 0)
        return float(any(shared_at <= t <= until and r > stage
                         for t, r in forward.get(item.opportunity_id, ())))

    return np.array([reward_of(item) for item in shown])


def _number_lists(shown: Sequence[ShownItem]) -> tuple[np.ndarray, int]:
    """Number the lists in order of first appearance; return each item's list and the count."""
    numbers: dict[Hashable, int] = {}
    index = [numbers.setdefault(item.list_key, len(numbers)) for item in shown]
    return np.array(index, dtype=np.int64), len(numbers)


def build_logged_lists(shown: Sequence[ShownItem], rewards: np.ndarray, target: TargetPolicy,
                       contexts: Mapping[str, Mapping[str, str]]) -> LoggedLists:
    """Group shown items into lists and ask the target policy about each list.

    Parameters
    ----------
    shown : sequence of ShownItem, length n
    rewards : ndarray of float, shape (n,)
        From ``item_rewards``.
    target : TargetPolicy
        Asked per list with the list's buying stage, that stage's logged assets (sorted), the
        list's length and its deal's context.
    contexts : mapping opportunity_id -> context (``persona``, ``industry``)
        Every deal of ``shown``.

    Returns
    -------
    LoggedLists
        Item keys are ``(buying_stage, asset_id)``; lists are clustered by deal.
    """
    list_index, n_lists = _number_lists(shown)
    list_stage = [""] * n_lists
    list_opp = [""] * n_lists
    list_size = np.zeros(n_lists, dtype=np.int64)
    candidates: dict[str, set[str]] = defaultdict(set)
    for number, item in zip(list_index, shown, strict=True):
        list_stage[number], list_opp[number] = item.buying_stage, item.opportunity_id
        list_size[number] += 1
        candidates[item.buying_stage].add(item.asset_id)
    policy = []
    for number in range(n_lists):
        stage = list_stage[number]
        probs = target(stage, sorted(candidates[stage]), int(list_size[number]),
                       contexts[list_opp[number]])
        policy.append({(stage, a): float(p) for a, p in probs.items()})
    return LoggedLists(
        list_index=list_index,
        item_keys=[(item.buying_stage, item.asset_id) for item in shown],
        rewards=rewards,
        propensities=np.array([item.propensity for item in shown]),
        target=policy,
        clusters=np.array(list_opp),
    )
