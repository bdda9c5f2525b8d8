"""Marketer analytics: content influence with a plain-language verdict, and content gaps.

Influence puts two numbers side by side for each asset at each buying stage:

- the **effect** estimated by the outcome model (``recommender.learning.effects``): the adjusted
  change in the probability that a stage visit advances when the asset is shared, with its 90%
  interval and support (stage visits with the asset shared);
- the **naive win rate when used** the way commercial tools report it: among closed deals that
  reached the stage, the share won when the asset was shared at that stage, and the same share
  when it was not. It is shown so readers can see how far correlation is from the effect, never
  used for the verdict.

The verdict reads the interval only: ``helps`` when it lies above 0, ``hurts`` when below,
``no evidence`` when it spans 0 with enough support, ``not enough data`` when support is below
a threshold (or no model is trained).

Gaps look at every buying stage × persona × industry cell: an asset serves a cell when it is
recommendable, tagged with that buying stage, and either untagged for personas (industries) or
tagged with the cell's. A cell is a gap when no asset serves it, or when none that serves it has
a ``helps`` verdict. Open content requests reps filed are counted per cell (a request without a
persona or industry counts in every cell of that dimension).

Plain data in, plain data out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

HELPS, HURTS, NO_EVIDENCE, NOT_ENOUGH = "helps", "hurts", "no evidence", "not enough data"
VERDICTS: tuple[str, ...] = (HELPS, NO_EVIDENCE, HURTS, NOT_ENOUGH)
NO_ASSET, NONE_HELPS, UNKNOWN, COVERED = "no asset", "no asset that helps", "unknown", "covered"
GAP_STATUSES: tuple[str, ...] = (NO_ASSET, NONE_HELPS, UNKNOWN, COVERED)
POOLED_SEGMENTS = ("", "all", None)


@dataclass(frozen=True)
class AssetInfo:
    """What analytics needs to know about an asset from the library."""

    asset_id: str
    title: str = ""
    type: str = ""
    stage: str = ""
    personas: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    recommendable: bool = True


@dataclass(frozen=True)
class NaiveRate:
    """Correlational win rates of closed deals at one stage, with and without the asset shared."""

    won_used: int = 0
    closed_used: int = 0
    won_not_used: int = 0
    closed_not_used: int = 0

    @property
    def used(self) -> float | None:
        return self.won_used / self.closed_used if self.closed_used else None

    @property
    def not_used(self) -> float | None:
        return self.won_not_used / self.closed_not_used if self.closed_not_used else None


@dataclass(frozen=True)
class InfluenceRow:
    """One asset at one buying stage (and segment): effect, interval, support and verdict."""

    asset_id: str
    title: str
    type: str
    buying_stage: str
    segment: str
    effect: float | None
    lower: float | None
    upper: float | None
    support: int
    win_rate_used: float | None
    win_rate_not_used: float | None
    deals_used: int
    verdict: str
    explanation: str
    win_effect: float | None = None
    win_lower: float | None = None
    win_upper: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GapCell:
    """One buying stage × persona × industry cell and how well the library covers it."""

    buying_stage: str
    persona: str
    industry: str
    status: str
    asset_count: int
    tailored_count: int
    helping_count: int
    helping_assets: tuple[str, ...]
    open_requests: int
    open_opportunities: int
    explanation: str = ""
    assets: tuple[str, ...] = field(default=())

    @property
    def is_gap(self) -> bool:
        return self.status in (NO_ASSET, NONE_HELPS)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["helping_assets"] = list(self.helping_assets)
        data["assets"] = list(self.assets)
        return data


def verdict(lower: float | None, upper: float | None, support: int,
            min_support: int = 20) -> str:
    """Return the plain-language verdict for an effect interval.

    Parameters
    ----------
    lower, upper : float or None
        The effect's interval bounds (None when no estimate exists).
    support : int
        Stage visits with the asset shared.
    min_support : int
        Below this support the answer is ``not enough data`` whatever the interval says.
    """
    if lower is None or upper is None or support < min_support:
        return NOT_ENOUGH
    if lower > 0:
        return HELPS
    if upper < 0:
        return HURTS
    return NO_EVIDENCE


def _explain(v: str, effect: float | None, lower: float | None, upper: float | None,
             support: int, min_support: int, level: float) -> str:
    if effect is None or lower is None or upper is None:
        return "no estimate: the asset was not shared in this stage in the training data"
    span = f"{lower:+.1%} to {upper:+.1%}"
    if v == NOT_ENOUGH:
        return f"shared in only {support} stage visits (need {min_support})"
    if v == HELPS:
        return (f"sharing it raises the chance to advance by {effect:+.1%} "
                f"({level:.0%} interval {span})")
    if v == HURTS:
        return (f"sharing it lowers the chance to advance by {effect:+.1%} "
                f"({level:.0%} interval {span})")
    return f"no measurable effect: {level:.0%} interval {span} includes zero"


def naive_rates(shared: Iterable[tuple[str, str, str]], reached: Mapping[str, Iterable[str]],
                outcomes: Mapping[str, str]) -> dict[tuple[str, str], NaiveRate]:
    """Count the naive "win rate when used" per asset and buying stage.

    Parameters
    ----------
    shared : iterable of (opportunity_id, asset_id, buying_stage)
        Share events (duplicates are fine).
    reached : mapping opportunity_id -> buying stages the deal reached
    outcomes : mapping opportunity_id -> "won" | "lost" | "open"

    Returns
    -------
    dict (asset_id, buying_stage) -> NaiveRate
        Only closed deals count; a deal that reached the stage without the asset counts in
        ``not_used``.
    """
    closed_at_stage: dict[str, set[str]] = defaultdict(set)
    for opp, stages in reached.items():
        if outcomes.get(opp) in ("won", "lost"):
            for stage in stages:
                closed_at_stage[stage].add(opp)
    used: dict[tuple[str, str], set[str]] = defaultdict(set)
    for opp, asset, stage in shared:
        if outcomes.get(opp) in ("won", "lost"):
            used[(asset, stage)].add(opp)
            closed_at_stage[stage].add(opp)
    won_at_stage = {s: sum(outcomes[o] == "won" for o in opps)
                    for s, opps in closed_at_stage.items()}
    rates = {}
    for (asset, stage), opps in used.items():
        won_used = sum(outcomes[o] == "won" for o in opps)
        total = len(closed_at_stage[stage])
        rates[(asset, stage)] = NaiveRate(won_used, len(opps), won_at_stage[stage] - won_used,
                                          total - len(opps))
    return rates


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def influence_rows(estimates: Iterable[Any] | None, assets: Mapping[str, AssetInfo],
                   naive: Mapping[tuple[str, str], NaiveRate], stages: Sequence[str],
                   stage: str | None = None, min_support: int = 20, level: float = 0.9,
                   include_segments: bool = False,
                   not_trained_reason: str = "model not trained — run baton train",
                   ) -> list[InfluenceRow]:
    """Build influence rows from effect estimates, library assets and naive rates.

    Parameters
    ----------
    estimates : iterable of EffectEstimate-like records, or None
        Each has ``asset_id, buying_stage, effect, lower, upper, support`` and optionally
        ``segment`` (pooled when None, empty or "all") and ``win_effect, win_lower,
        win_upper`` (the effect on the final win, reported separately). None means no model
        is trained.
    assets : mapping asset_id -> AssetInfo
    naive : mapping (asset_id, buying_stage) -> NaiveRate
    stages : sequence of str
        Buying stages in order (rows are sorted by it).
    stage : str, optional
        Keep only this buying stage.
    min_support : int
    level : float
        Interval level, for the explanation text.
    include_segments : bool
        Also return per-segment rows (persona / industry) next to the pooled ones.
    not_trained_reason : str
        Explanation used on every row when ``estimates`` is None.

    Returns
    -------
    list of InfluenceRow
        Every (asset, stage) with an estimate, plus each recommendable asset at its own stage
        without one (``not enough data``); sorted by stage, verdict, effect (largest first).
    """
    make = _RowMaker(assets, naive, min_support, level)
    rows: list[InfluenceRow] = []
    seen: set[tuple[str, str]] = set()
    for est in estimates or ():
        buying_stage = str(_get(est, "buying_stage", ""))
        segment = _get(est, "segment", "")
        if segment not in POOLED_SEGMENTS and not include_segments:
            continue
        if stage is not None and buying_stage != stage:
            continue
        if segment in POOLED_SEGMENTS:
            seen.add((str(_get(est, "asset_id")), buying_stage))
        rows.append(make.from_estimate(est, buying_stage, segment))
    for asset_id, info in assets.items():
        if not info.recommendable or not info.stage or (asset_id, info.stage) in seen:
            continue
        if stage is not None and info.stage != stage:
            continue
        reason = not_trained_reason if estimates is None else None
        rows.append(make(asset_id, info.stage, "", None, None, None, 0, reason))
    order = {s: i for i, s in enumerate(stages)}
    verdict_rank = {v: i for i, v in enumerate(VERDICTS)}
    rows.sort(key=lambda r: (order.get(r.buying_stage, len(order)), r.segment,
                             verdict_rank[r.verdict],
                             -(r.effect if r.effect is not None else float("-inf")), r.asset_id))
    return rows


@dataclass(frozen=True)
class _RowMaker:
    """Join one (asset, stage) estimate with the asset's library record and naive rates."""

    assets: Mapping[str, AssetInfo]
    naive: Mapping[tuple[str, str], NaiveRate]
    min_support: int
    level: float

    def __call__(self, asset_id: str, buying_stage: str, segment: str, effect: float | None,
                 lower: float | None, upper: float | None, support: int,
                 reason: str | None = None, win: tuple = (None, None, None)) -> InfluenceRow:
        info = self.assets.get(asset_id) or AssetInfo(asset_id)
        rate = self.naive.get((asset_id, buying_stage), NaiveRate())
        v = verdict(lower, upper, support, self.min_support)
        text = reason or _explain(v, effect, lower, upper, support, self.min_support, self.level)
        return InfluenceRow(asset_id, info.title, info.type, buying_stage, segment,
                            effect, lower, upper, int(support), rate.used, rate.not_used,
                            rate.closed_used, v, text, *win)

    def from_estimate(self, est: Any, buying_stage: str, segment: Any) -> InfluenceRow:
        """The row of an EffectEstimate-like record (pooled when ``segment`` says so)."""

        def num(name: str) -> float | None:
            value = _get(est, name)
            return None if value is None else float(value)

        return self(str(_get(est, "asset_id")), buying_stage,
                    "" if segment in POOLED_SEGMENTS else str(segment),
                    num("effect"), num("lower"), num("upper"), int(_get(est, "support", 0) or 0),
                    win=(num("win_effect"), num("win_lower"), num("win_upper")))


def serves(info: AssetInfo, stage: str, persona: str, industry: str) -> bool:
    """Return True when the asset is recommendable for the cell (empty tags match any value)."""
    return (info.recommendable and info.stage == stage
            and (not info.personas or persona in info.personas)
            and (not info.industries or industry in info.industries))


def gap_cells(assets: Iterable[AssetInfo], stages: Sequence[str], personas: Sequence[str],
              industries: Sequence[str], verdicts: Mapping[tuple[str, str], str] | None,
              requests: Iterable[tuple[str | None, str | None, str | None]] = (),
              open_deals: Iterable[tuple[str | None, str | None, str | None]] = (),
              include_covered: bool = False) -> list[GapCell]:
    """List the buying stage × persona × industry cells the library leaves uncovered.

    Parameters
    ----------
    assets : iterable of AssetInfo
    stages, personas, industries : sequence of str
        The cells' axes.
    verdicts : mapping (asset_id, buying_stage) -> verdict, or None when no model is trained
        (cells with assets then have status ``unknown``).
    requests : iterable of (buying_stage, persona, industry)
        Open content requests; None (or "") matches every value of that axis.
    open_deals : iterable of (buying_stage, persona, industry)
        Open opportunities, counted per cell as demand.
    include_covered : bool
        Also return covered (and unknown) cells.

    Returns
    -------
    list of GapCell
        Worst first: no asset, then no asset that helps; within a status, most open requests
        and open deals first.
    """
    assets = list(assets)
    requests = list(requests)
    deal_counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for s, p, i in open_deals:
        deal_counts[(s or "", p or "", i or "")] += 1
    cells = []
    for stage in stages:
        stage_assets = [a for a in assets if a.recommendable and a.stage == stage]
        for persona in personas:
            for industry in industries:
                serving = [a for a in stage_assets if serves(a, stage, persona, industry)]
                tailored = [a for a in serving if a.personas or a.industries]
                n_requests = sum(1 for s, p, i in requests
                                 if (not s or s == stage) and (not p or p == persona)
                                 and (not i or i == industry))
                if verdicts is None:
                    helping: list[str] = []
                    status = NO_ASSET if not serving else UNKNOWN
                else:
                    helping = [a.asset_id for a in serving
                               if verdicts.get((a.asset_id, stage)) == HELPS]
                    status = (NO_ASSET if not serving else NONE_HELPS if not helping
                              else COVERED)
                if not include_covered and status not in (NO_ASSET, NONE_HELPS):
                    continue
                explanation = {
                    NO_ASSET: f"no recommendable {stage} asset for {persona} in {industry}",
                    NONE_HELPS: (f"{len(serving)} {stage} asset(s) fit, none shown to help "
                                 f"{persona} in {industry}"),
                    UNKNOWN: "model not trained — run baton train",
                    COVERED: f"{len(helping)} asset(s) shown to help",
                }[status]
                cells.append(GapCell(stage, persona, industry, status, len(serving),
                                     len(tailored), len(helping), tuple(helping), n_requests,
                                     deal_counts[(stage, persona, industry)], explanation,
                                     tuple(a.asset_id for a in serving)))
    rank = {s: i for i, s in enumerate(GAP_STATUSES)}
    cells.sort(key=lambda c: (rank[c.status], -c.open_requests, -c.open_opportunities,
                              stages.index(c.buying_stage), c.persona, c.industry))
    return cells
