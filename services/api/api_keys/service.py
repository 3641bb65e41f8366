"""API keys: created by `recrue create-api-key`, shown once, stored as a hash."""

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import ApiKey

ROLES = ("admin", "hr", "examiner", "viewer")
KEY_PREFIX = "rk_"


def hash_key(key: str) -> str:
    """SHA-256 of the key: keys are 256 random bits, so a plain hash is enough to store."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(*, session: Session, name: str, role: str) -> str:
    """Store a new key for `name` with `role` and return the key (the only time it is seen)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(name=name, role=role, key_hash=hash_key(key)))
    session.flush()
    return key


def find_agent(session: Session, key: str) -> ApiKey | None:
    """The live key matching `key`, if any."""
    return session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    )
