"""Settings read models: users, API keys and the last training run."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiKey, User
from models.learning import TrainingRun
from web.services.queries.paging import Page, paged


def users_page(session: Session, page: int = 1, per_page: int = 25) -> Page:
    """Return a page of users by e-mail."""
    return paged(session, select(User).order_by(User.email), page, per_page)


def api_keys_page(session: Session, page: int = 1, per_page: int = 25) -> Page:
    """Return a page of API keys, newest first (hashes only; keys are never shown again)."""
    return paged(session, select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc()),
                 page, per_page)


def last_training_run(session: Session) -> TrainingRun | None:
    """Return the newest training run, or None before the first one."""
    return session.scalar(select(TrainingRun).order_by(TrainingRun.id.desc()).limit(1))
