"""CLI commands: learning (to be built)."""

commands: list = []
