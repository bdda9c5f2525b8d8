"""API resource: assets (to be built)."""

blp = None
