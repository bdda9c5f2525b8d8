"""Content library use cases: ingest, edits and review, tagging, the library cache and search."""
