"""CLI commands: crm (to be built)."""

commands: list = []
