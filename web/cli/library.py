"""CLI commands: library (to be built)."""

commands: list = []
