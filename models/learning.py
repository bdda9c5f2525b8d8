"""Models: learning (to be built)."""

from models.base import Base  # noqa: F401
