"""The ``baton`` command line: a thin click wrapper over the services.

Each module of this package holds one area's commands in a ``commands`` list; ``main`` adds them.
User mistakes (``BatonError``) print one line on stderr and exit non-zero, without a traceback.
"""

from __future__ import annotations

import sys

import click

from recommender.errors import BatonError
from web.cli import accounts, analytics, backup, core, crm, learning, library, recommend

COMMAND_MODULES = (core, library, crm, recommend, learning, analytics, accounts, backup)


class BatonGroup(click.Group):
    """A click group that turns ``BatonError`` into one clear line and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BatonError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=BatonGroup)
@click.version_option(package_name="baton-recommender", prog_name="baton")
def main() -> None:
    """Baton: the right asset for the deal, learned from outcomes."""


for _module in COMMAND_MODULES:
    for _command in _module.commands:
        main.add_command(_command)
