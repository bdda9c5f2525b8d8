"""CLI commands: analytics (to be built)."""

commands: list = []
