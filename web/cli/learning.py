"""Learning commands: ``baton simulate`` and ``baton train``."""

from __future__ import annotations

import json

import click

from recommender.learning.simulator import simulate_world
from recommender.learning.simulator_files import write_world
from web.cli.context import get_baton
from web.services.learning import training


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--opportunities", "n_opportunities", default=4000, show_default=True,
              type=click.IntRange(1, 2_000_000))
def simulate(out_dir: str, seed: int, n_opportunities: int) -> None:
    """Write a simulated world: content folder, baton CSVs and truth.json."""
    world = simulate_world(seed, n_opportunities)
    out = write_world(world, out_dir)
    click.echo(f"simulated {len(world.opportunities)} opportunities, "
               f"{len(world.stage_history)} stage changes, {len(world.events)} events, "
               f"{len(world.assets)} assets (seed {seed}) -> {out}")
    click.echo(f"load it: baton ingest {out / 'content'} && baton import-crm {out}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON document.")
def train(as_json: bool) -> None:
    """Learn which content helps deals advance, and publish the model."""
    report = training.train(get_baton())
    if as_json:
        click.echo(json.dumps({"run_id": report.run_id, "artifact": report.artifact_path,
                               "model_version": report.model_version,
                               "seconds": round(report.seconds, 2),
                               "figures": report.figures}, default=str))
        return
    click.echo(report.summary())
    for key, value in report.figures.items():
        click.echo(f"  {key}: {value}")


commands = [simulate, train]
