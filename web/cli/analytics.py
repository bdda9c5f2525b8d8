"""Analytics commands: influence, gaps, funnel, evaluate-policy and review-export."""

from __future__ import annotations

import json
from pathlib import Path

import click

from web.cli.context import get_baton
from web.services.learning import analytics


def _pct(value: float | None, signed: bool = True) -> str:
    if value is None:
        return "–"
    return f"{value:+.1%}" if signed else f"{value:.0%}"


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.command()
@click.option("--stage", help="Only this buying stage (or a pipeline stage name).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout.")
@click.option("--segments", is_flag=True, help="Also show per-segment effects.")
@click.option("--min-support", default=analytics.MIN_SUPPORT, show_default=True,
              type=click.IntRange(0), help="Stage visits needed before a verdict.")
def influence(stage: str | None, as_json: bool, as_csv: bool, segments: bool,
              min_support: int) -> None:
    """Show each asset's effect on advancing, per buying stage, beside its naive win rate."""
    if as_json and as_csv:
        raise click.UsageError("give at most one of --json and --csv")
    baton = get_baton()
    with baton.sessions() as session:
        rows = analytics.influence(baton, session, stage=stage, min_support=min_support,
                                   include_segments=segments)
        trained = analytics.current_model(baton) is not None
    if as_json:
        _echo_json({"model_trained": trained, "min_support": min_support,
                    "rows": [r.to_dict() for r in rows]})
        return
    if as_csv:
        click.echo(analytics.influence_csv(rows), nl=False)
        return
    if not trained:
        click.echo(f"note: {analytics.NOT_TRAINED}", err=True)
    if not rows:
        click.echo("no assets to report")
        return
    header = f"{'stage':<14} {'asset':<36} {'effect':>8} {'90% interval':>19} {'support':>7} " \
             f"{'naive used/not':>14}  verdict"
    click.echo(header)
    for r in rows:
        name = (r.asset_id + (f" [{r.segment}]" if r.segment else ""))[:36]
        interval = f"{_pct(r.lower)}..{_pct(r.upper)}" if r.lower is not None else "–"
        naive = f"{_pct(r.win_rate_used, False)}/{_pct(r.win_rate_not_used, False)}"
        click.echo(f"{r.buying_stage:<14} {name:<36} {_pct(r.effect):>8} {interval:>19} "
                   f"{r.support:>7} {naive:>14}  {r.verdict}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option("--all", "include_covered", is_flag=True, help="Also list covered cells.")
def gaps(as_json: bool, include_covered: bool) -> None:
    """List buying stage × persona × industry cells with no asset, or none that helps."""
    baton = get_baton()
    with baton.sessions() as session:
        cells = analytics.gaps(baton, session, include_covered=include_covered)
        trained = analytics.current_model(baton) is not None
    if as_json:
        _echo_json({"model_trained": trained, "cells": [c.to_dict() for c in cells]})
        return
    if not trained:
        click.echo(f"note: {analytics.NOT_TRAINED}; only cells with no asset are gaps",
                   err=True)
    if not cells:
        click.echo("no gaps: every cell has an asset" + (" that helps" if trained else ""))
        return
    click.echo(f"{'stage':<14} {'persona':<16} {'industry':<16} {'status':<20} {'assets':>6} "
               f"{'requests':>8} {'open deals':>10}")
    for c in cells:
        click.echo(f"{c.buying_stage:<14} {c.persona[:16]:<16} {c.industry[:16]:<16} "
                   f"{c.status:<20} {c.asset_count:>6} {c.open_requests:>8} "
                   f"{c.open_opportunities:>10}")


@click.command()
@click.option("--pipeline", help="Pipeline name (default: the configured default).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def funnel(pipeline: str | None, as_json: bool) -> None:
    """Show the funnel: entries, advances, losses, conversion and days in each stage."""
    baton = get_baton()
    with baton.sessions() as session:
        rows = analytics.funnel(baton, session, pipeline)
    if as_json:
        _echo_json({"rows": [r.to_dict() for r in rows]})
        return
    click.echo(f"{'stage':<24} {'entered':>7} {'advanced':>8} {'lost':>6} {'open':>6} "
               f"{'conv.':>6} {'median d':>8} {'p75 d':>6}")
    for r in rows:
        med = "–" if r.median_days is None else f"{r.median_days:.0f}"
        p75 = "–" if r.p75_days is None else f"{r.p75_days:.0f}"
        click.echo(f"{r.stage[:24]:<24} {r.entered:>7} {r.advanced:>8} {r.lost:>6} "
                   f"{r.open:>6} {_pct(r.conversion, False):>6} {med:>8} {p75:>6}")


@click.command("evaluate-policy")
@click.option("--reward", type=click.Choice(["engaged", "advanced"]), default="engaged",
              show_default=True, help="engaged: shared or helpful within the window; "
              "advanced: shared, then the deal left the stage forward within the window.")
@click.option("--window-days", default=14.0, show_default=True, type=click.FloatRange(0.01))
@click.option("--clip", default=100.0, show_default=True, type=click.FloatRange(0.0),
              help="Largest importance weight kept (0: no clipping).")
@click.option("--interval", type=click.Choice(["bootstrap", "normal"]), default="bootstrap",
              show_default=True)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def evaluate_policy(reward: str, window_days: float, clip: float, interval: str, seed: int,
                    as_json: bool) -> None:
    """Estimate the current ranking's value off-policy (IPS, SNIPS, doubly robust)."""
    baton = get_baton()
    with baton.sessions() as session:
        report = analytics.evaluate_policy(baton, session, reward=reward,
                                           window_days=window_days, clip=clip or None,
                                           interval=interval, seed=seed)
    if as_json:
        _echo_json(report.to_dict())
        return
    res = report.result
    click.echo(f"reward: {reward} within {window_days:g} days, per list "
               f"({res.n_lists} lists, {res.n_items} shown items, {res.n_clusters} deals)")
    click.echo(f"target: {report.target}")
    click.echo(f"{'estimator':<12} {'value':>8} {f'{res.level:.0%} interval':>22}")
    for est in [*res.estimates, res.logging]:
        name = "logging" if est.estimator == "on-policy" else est.estimator
        click.echo(f"{name:<12} {est.value:>8.4f} {est.lower:>10.4f} .. {est.upper:<9.4f}")
    click.echo(f"effective sample size {res.effective_sample_size:.0f} of {res.n_items}; "
               f"max weight {res.max_weight:.1f}; clipped {res.clipped}")
    for note in res.notes:
        click.echo(f"note: {note}")


@click.command("review-export")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--period", default="", help="Period label, e.g. '2026 Q3' (default: this quarter).")
def review_export(out_dir: Path, period: str) -> None:
    """Write the quarterly content review as Markdown and CSV into OUT_DIR."""
    baton = get_baton()
    with baton.sessions() as session:
        markdown, csv_text = analytics.quarterly_review(baton, session, period=period)
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path, csv_path = out_dir / "content-review.md", out_dir / "content-review.csv"
    md_path.write_text(markdown, encoding="utf-8")
    csv_path.write_text(csv_text, encoding="utf-8")
    click.echo(f"wrote {md_path} and {csv_path}")


commands = [influence, gaps, funnel, evaluate_policy, review_export]
