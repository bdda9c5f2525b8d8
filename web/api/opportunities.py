"""API resource: opportunities (to be built)."""

blp = None
