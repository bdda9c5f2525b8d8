"""Models: rules (to be built). Add SQLAlchemy classes here; models/__init__ imports this module."""

from models.base import Base  # noqa: F401
