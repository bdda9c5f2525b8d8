"""Users and API keys: create, verify, revoke. Only hashes are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import ApiKey, User
from recommender.domain import ROLES, utcnow
from recommender.errors import NotFoundError, ValidationError

KEY_PREFIX = "bk"


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key or a signed-in user, with a role."""

    kind: str  # "api_key" | "user" | "sidebar"
    id: str
    role: str


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    return role


def hash_key(key: str) -> str:
    """Return the stored hash of an API key (keys are 190-bit random, so sha256 suffices)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(session: Session, role: str, label: str = "") -> tuple[str, ApiKey]:
    """Create an API key with ``role``; return the plaintext key (shown once) and its row."""
    _check_role(role)
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(24)}"
    row = ApiKey(prefix=prefix, key_hash=hash_key(key), role=role, label=label)
    session.add(row)
    session.commit()
    return key, row


def verify_api_key(session: Session, key: str) -> Principal | None:
    """Return the key's principal when ``key`` is valid and not revoked, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, hash_key(key)):
        return None
    return Principal(kind="api_key", id=str(row.id), role=row.role)


def revoke_api_key(session: Session, key_id: int) -> bool:
    """Revoke an API key by id; return False when there is no such key."""
    row = session.get(ApiKey, key_id)
    if row is None:
        return False
    row.revoked_at = row.revoked_at or utcnow()
    session.commit()
    return True


def create_user(session: Session, email: str, role: str, password: str) -> User:
    """Create a user with a hashed password; e-mails are unique and case-insensitive."""
    _check_role(role)
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise ValidationError(f"{email!r} is not an e-mail address")
    if len(password) < 8:
        raise ValidationError("password must have at least 8 characters")
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise ValidationError(f"a user {email!r} already exists")
    user = User(email=email, role=role, password_hash=generate_password_hash(password))
    session.add(user)
    session.commit()
    return user


def authenticate_user(session: Session, email: str, password: str) -> User | None:
    """Return the active user when the password matches, else None."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        # Spend the same time as a real check so e-mails cannot be probed by timing.
        check_password_hash(generate_password_hash("x"), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def set_password(session: Session, email: str, password: str) -> User:
    """Set a user's password (e.g. after a restore, which never carries password hashes)."""
    if len(password) < 8:
        raise ValidationError("password must have at least 8 characters")
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise ValidationError(f"no user {email!r}")
    user.password_hash = generate_password_hash(password)
    session.commit()
    return user


def password_stamp(user: User) -> str:
    """Return the short stamp of the user's password hash that a sign-in cookie carries."""
    return user.password_hash[-12:]


def signed_in_user(session: Session, user_id: int, stamp: str | None) -> User | None:
    """Return the active user whose password is unchanged since sign-in (``stamp``), else None."""
    user = session.get(User, user_id)
    if user is None or not user.active or stamp != password_stamp(user):
        return None  # deactivated, or the password changed since sign-in
    return user


def set_user_active(session: Session, user_id: int, active: bool) -> User:
    """Activate or deactivate a user (a deactivated user cannot sign in)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"unknown user {user_id}")
    user.active = active
    session.commit()
    return user
