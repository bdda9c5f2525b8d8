"""Baton's pure ML core: extraction, embedding, tagging, ranking, outcome learning, analytics.

Nothing in this package imports Flask, SQLAlchemy, ``models`` or ``web``, and nothing reads
``os.environ``: settings arrive as parameters, so every function can be driven from a notebook.
"""

from recommender.errors import BatonError

__all__ = ["BatonError"]
