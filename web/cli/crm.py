"""CRM commands: ``baton import-crm`` and ``baton stuck``."""

from __future__ import annotations

import json
import sys

import click

from recommender.crm.formats import FORMATS
from web.cli.context import get_baton
from web.services.crm import importing
from web.services.queries.deals import pipeline_overview


@click.command("import-crm")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="baton", show_default=True,
              help="Which CRM export the files are.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON document.")
def import_crm(paths: tuple[str, ...], fmt: str, as_json: bool) -> None:
    """Import opportunities, stage history and content events from CRM CSV exports."""
    baton = get_baton()
    report = importing.import_crm(
        baton, paths, format=fmt,
        on_error=lambda e: click.echo(f"error: {e.file}:{e.line}: {e.reason}", err=True),
    )
    if as_json:
        click.echo(json.dumps(report.as_dict()))
    else:
        for kind, path in report.files:
            click.echo(f"read {kind}: {path}")
        for path in report.skipped:
            click.echo(f"skipped (not a {fmt} export): {path}")
        click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the stuck deals as JSON.")
@click.option("--owner", default=None, help="Only this owner's deals.")
@click.option("--all", "show_all", is_flag=True, help="List every open deal, not only stuck ones.")
def stuck(as_json: bool, owner: str | None, show_all: bool) -> None:
    """List open deals that have been in their stage longer than advancing deals usually were."""
    baton = get_baton()
    with baton.sessions() as session:
        groups = pipeline_overview(baton, session, sort="overdue", owner=owner,
                                   stuck_only=not show_all)
    rows = [row for group in groups for row in group["opportunities"]]
    if as_json:
        click.echo(json.dumps({"count": len(rows), "opportunities": rows}, default=str))
        return
    if not rows:
        click.echo("no stuck deals" if not show_all else "no open deals")
        return
    for row in rows:
        flag = "STUCK" if row["stuck"] else "ok   "
        label = row["name"] or row["opportunity_id"]
        click.echo(f"{flag} {row['opportunity_id']}  {label}  [{row['stage']}]  "
                   f"{row['reason']}")


commands = [import_crm, stuck]
