"""API resource: analytics (to be built)."""

blp = None
