"""Models: recommendations (to be built)."""

from models.base import Base  # noqa: F401
