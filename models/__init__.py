"""Baton's database layer: SQLAlchemy 2.0 models, engine and session factories, read-only queries.

Importing this package registers every table on ``Base.metadata`` (Alembic reads it from here).
"""

from models.accounts import ApiKey, User
from models.base import Base
from models.crm import ContentEvent, Opportunity, StageChange
from models.db import make_engine, make_session_factory, session_scope, upgrade_database
from models.feedback import ContentRequest
from models.library import Asset, Passage

# Area modules register their tables on import.
from models import learning, recommendations, rules  # noqa: E402,F401  isort: skip

__all__ = [
    "ApiKey",
    "Asset",
    "Base",
    "ContentEvent",
    "ContentRequest",
    "Opportunity",
    "Passage",
    "StageChange",
    "User",
    "make_engine",
    "make_session_factory",
    "session_scope",
    "upgrade_database",
]
