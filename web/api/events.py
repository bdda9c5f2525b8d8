"""API resource: events (to be built)."""

blp = None
