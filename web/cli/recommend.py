"""CLI commands: recommend (to be built)."""

commands: list = []
