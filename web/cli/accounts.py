"""CLI commands: accounts (to be built)."""

commands: list = []
