"""Backup commands: ``baton export DIR`` and ``baton import DIR``."""

from __future__ import annotations

from pathlib import Path

import click

from web.cli.context import get_baton
from web.services import backup


@click.command("export")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
def export_command(out_dir: Path) -> None:
    """Export the whole state (assets, files, opportunities, events, rules, users) to OUT_DIR."""
    report = backup.export_state(get_baton(), out_dir)
    click.echo(f"exported {report.summary()} to {out_dir}")


@click.command("import")
@click.argument("in_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_command(in_dir: Path) -> None:
    """Restore a backup made by ``baton export`` into an empty database."""
    report = backup.import_state(get_baton(), in_dir)
    click.echo(f"imported {report.summary()} from {in_dir}; "
               "users must set new passwords (baton user set-password), API keys must be re-minted")


commands = [export_command, import_command]
