"""The quarterly content review: what worked per stage, what did not, what is missing.

Built once from plain analytics data (influence rows, gap cells, funnel rows, open requests) and
rendered as Markdown (the agenda of the sales–marketing meeting) and as CSV (for a spreadsheet).
CSV text cells are neutralised against spreadsheet formula injection: a cell starting with
``= + - @``, a tab or a carriage return gets a leading apostrophe. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from recommender.learning.analytics import HELPS, HURTS, NO_EVIDENCE, GapCell, InfluenceRow
from recommender.learning.funnel import FunnelRow

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("section", "buying_stage", "asset_id", "title", "type", "verdict", "effect",
               "lower", "upper", "support", "win_rate_used", "win_rate_not_used", "persona",
               "industry", "open_requests", "open_opportunities", "note")


def csv_safe(value: Any) -> Any:
    """Return ``value`` safe for a spreadsheet: text that could start a formula gets a ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool) or isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _one_line_break(value: Any) -> Any:
    """A bare CR is not quoted by ``csv.writer(lineterminator="\\n")`` and would start a new
    row (whose first cell may be a formula) in a spreadsheet: make it a LF, which is quoted."""
    if isinstance(value, str) and "\r" in value:
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def write_csv(rows: Iterable[Sequence[Any]], header: Sequence[str]) -> str:
    """Render rows as CSV text with every text cell neutralised by ``csv_safe``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([_one_line_break(csv_safe(h)) for h in header])
    for row in rows:
        writer.writerow([_one_line_break(csv_safe(v)) for v in row])
    return out.getvalue()


def _md(text: Any) -> str:
    """Escape a value for a Markdown table cell or list item."""
    return (str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ")
            .replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;"))


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.1%}" if signed else f"{value:.0%}"


@dataclass
class ReviewInput:
    """Everything the review is built from."""

    stages: Sequence[str]
    influence: Sequence[InfluenceRow]
    gaps: Sequence[GapCell]
    funnel: Sequence[FunnelRow] = ()
    requests: Sequence[dict] = ()
    generated_at: datetime | None = None
    period: str = ""
    model_trained: bool = True
    min_support: int = 20
    notes: list[str] = field(default_factory=list)
    max_items: int = 10


def _influence_table(rows: Sequence[InfluenceRow]) -> list[str]:
    lines = ["| Asset | Type | Effect | 90% interval | Support | Naive win rate used / not |",
             "|---|---|---:|---|---:|---|"]
    for r in rows:
        interval = (f"{_pct(r.lower, True)} to {_pct(r.upper, True)}"
                    if r.lower is not None else "–")
        lines.append(f"| {_md(r.title or r.asset_id)} (`{_md(r.asset_id)}`) | {_md(r.type)} | "
                     f"{_pct(r.effect, True)} | {interval} | {r.support} | "
                     f"{_pct(r.win_rate_used)} / {_pct(r.win_rate_not_used)} |")
    return lines


def review_markdown(data: ReviewInput) -> str:
    """Render the quarterly review as Markdown."""
    when = data.generated_at.strftime("%Y-%m-%d") if data.generated_at else ""
    title = "# Content review" + (f" — {_md(data.period)}" if data.period else "")
    out = [title, ""]
    if when:
        out += [f"Generated {when}.", ""]
    out += ["*Effect* is the estimated change in a deal's chance to advance out of the stage when "
            "the asset is shared, adjusted for rep, deal size, segment and time in stage. The "
            "naive win rate (deals won when the asset was used vs not) is shown beside it for "
            "comparison only: it rewards what strong reps send and what long deals pile up.", ""]
    if not data.model_trained:
        out += ["> **Model not trained — run `baton train`.** Effects and verdicts are missing; "
                "the gaps below only show cells with no asset at all.", ""]
    for note in data.notes:
        out += [f"> {_md(note)}", ""]
    pooled = [r for r in data.influence if not r.segment]
    counts = {v: sum(r.verdict == v for r in pooled) for v in (HELPS, NO_EVIDENCE, HURTS)}
    gaps = [g for g in data.gaps if g.is_gap]
    out += ["## Summary", "",
            f"- {counts[HELPS]} asset–stage pairs help, {counts[HURTS]} hurt, "
            f"{counts[NO_EVIDENCE]} show no measurable effect.",
            f"- {sum(g.status == 'no asset' for g in gaps)} buying stage × persona × industry "
            f"cells have no asset; {sum(g.status == 'no asset that helps' for g in gaps)} have "
            "none shown to help.",
            f"- {len(data.requests)} open content requests.", ""]
    n = data.max_items
    for stage in data.stages:
        rows = [r for r in pooled if r.buying_stage == stage]
        worked = sorted((r for r in rows if r.verdict == HELPS), key=lambda r: -(r.effect or 0))
        hurt = sorted((r for r in rows if r.verdict == HURTS), key=lambda r: r.effect or 0)
        idle = sorted((r for r in rows if r.verdict == NO_EVIDENCE), key=lambda r: -r.support)
        out += [f"## {stage.capitalize()}", "", "### What worked", ""]
        out += _influence_table(worked[:n]) if worked else ["Nothing shown to help yet."]
        out += ["", "### What did not", ""]
        if hurt:
            out += ["Shown to hurt at this stage (stop recommending here, or re-position):", ""]
            out += _influence_table(hurt[:n])
            out.append("")
        if idle:
            out += ["Used, with no measurable effect (most used first):", ""]
            out += _influence_table(idle[:n])
            out.append("")
        if not hurt and not idle:
            out += ["Nothing flagged.", ""]
        out += ["### What is missing", ""]
        all_stage_gaps = [g for g in gaps if g.buying_stage == stage]
        stage_gaps = all_stage_gaps[:n]
        if stage_gaps:
            empty = sum(g.status == "no asset" for g in all_stage_gaps)
            out += [f"{len(all_stage_gaps)} persona × industry cells: {empty} with no asset, "
                    f"{len(all_stage_gaps) - empty} with none shown to help. "
                    + ("Most requested and most open deals first:" if len(all_stage_gaps) > n
                       else ""), ""]
            out += ["| Persona | Industry | Status | Assets | Open requests | Open deals |",
                    "|---|---|---|---:|---:|---:|"]
            out += [f"| {_md(g.persona)} | {_md(g.industry)} | {g.status} | {g.asset_count} | "
                    f"{g.open_requests} | {g.open_opportunities} |" for g in stage_gaps]
        else:
            out.append("No gaps.")
        out.append("")
    if data.funnel:
        out += ["## Funnel and time in stage", "",
                "| Stage | Buying stage | Entered | Advanced | Lost | Open | Conversion | "
                "Median days | 75th pct days |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for f in data.funnel:
            med = "–" if f.median_days is None else f"{f.median_days:.0f}"
            p75 = "–" if f.p75_days is None else f"{f.p75_days:.0f}"
            out.append(f"| {_md(f.stage)} | {_md(f.buying_stage or '')} | {f.entered} | "
                       f"{f.advanced} | {f.lost} | {f.open} | {_pct(f.conversion)} | {med} | "
                       f"{p75} |")
        out.append("")
    if data.requests:
        out += ["## Open content requests", ""]
        for req in list(data.requests)[: 3 * n]:
            where = " · ".join(_md(req.get(k) or "any") for k in
                               ("buying_stage", "persona", "industry"))
            out.append(f"- {_md(req.get('need', ''))} ({where})")
        out.append("")
    return "\n".join(out)


def review_csv(data: ReviewInput) -> str:
    """Render the review's rows (influence, then gaps) as one CSV table."""
    rows: list[list[Any]] = []
    for r in data.influence:
        section = "influence" if not r.segment else f"influence:{r.segment}"
        rows.append([section, r.buying_stage, r.asset_id, r.title, r.type, r.verdict, r.effect,
                     r.lower, r.upper, r.support, r.win_rate_used, r.win_rate_not_used, "", "",
                     "", "", r.explanation])
    for g in data.gaps:
        rows.append(["gap", g.buying_stage, "", "", "", g.status, "", "", "", g.asset_count, "",
                     "", g.persona, g.industry, g.open_requests, g.open_opportunities,
                     g.explanation])
    return write_csv(rows, CSV_COLUMNS)
