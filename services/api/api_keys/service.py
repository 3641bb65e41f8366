"""API keys: created by `recrue create-api-key`, shown once, stored as a hash."""

import hashlib
import secrets
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api.errors import NotFound
from shared.models import ApiKey, utcnow

ROLES = ("admin", "hr", "examiner", "viewer")
KEY_PREFIX = "rk_"


def hash_key(key: str) -> str:
    """SHA-256 of the key: keys are 256 random bits, so a plain hash is enough to store."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(*, session: Session, name: str, role: str) -> tuple[ApiKey, str]:
    """Store a new key for `name` with `role`; returns its row and the key (seen only now)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, role=role, key_hash=hash_key(key))
    session.add(row)
    session.flush()
    return row, key


def find_agent(session: Session, key: str) -> ApiKey | None:
    """The live key matching `key`, if any."""
    return session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    )


def get_api_key(*, session: Session, key_id: uuid.UUID) -> ApiKey:
    """The key's row, or NotFound."""
    found = session.get(ApiKey, key_id)
    if found is None:
        raise NotFound(f"API key {key_id} not found")
    return found


def list_api_keys(*, session: Session) -> Sequence[ApiKey]:
    """Every key, oldest first (never the keys themselves: only hashes are stored)."""
    return session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)).all()


def revoke_api_key(*, session: Session, key_id: uuid.UUID) -> ApiKey:
    """Revoke a key: it stops working at once."""
    found = get_api_key(session=session, key_id=key_id)
    if found.revoked_at is None:
        found.revoked_at = utcnow()
        session.flush()
    return found
