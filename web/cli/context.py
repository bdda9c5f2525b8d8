"""How commands get the ``Baton`` runtime: one per process, built from the environment."""

from __future__ import annotations

import click

from web.config import Settings
from web.runtime import Baton


def get_baton() -> Baton:
    """Return this invocation's ``Baton`` (settings from ``BATON_*``), schema upgraded."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = {}
    if "baton" not in root.obj:
        baton = Baton(Settings.from_env())
        baton.init_database()
        root.obj["baton"] = baton
        root.call_on_close(baton.close)
    return root.obj["baton"]
