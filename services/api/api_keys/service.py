"""API keys: created by `recrue create-api-key`, shown once, stored as a hash."""

import hashlib
import secrets
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api.auth import Role
from services.api.errors import Invalid, NotFound
from shared.models import ApiKey, Person, utcnow

KEY_PREFIX = "rk_"


def hash_key(key: str) -> str:
    """SHA-256 of the key: keys are 256 random bits, so a plain hash is enough to store."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    *,
    session: Session,
    name: str,
    role: Role,
    person_id: uuid.UUID | None = None,
    acts_for_people: bool = False,
) -> tuple[ApiKey, str]:
    """Store a new key for `name` with `role`; returns its row and the key (seen only now).
    A person's own key acts as that person (an examiner's key must be one); a key that acts
    for people serves a front-end that names the person in `On-Behalf-Of`."""
    if person_id is not None:
        person = session.get(Person, person_id)
        if person is None or not person.active or role not in person.roles:
            raise Invalid(f"no active person {person_id} with the role {role}", field="person_id")
        if acts_for_people:
            raise Invalid("a person's own key does not act for others", field="acts_for_people")
    elif role == Role.EXAMINER:
        raise Invalid("an examiner's key is a person's own: give person_id", field="person_id")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name,
        role=role,
        key_hash=hash_key(key),
        person_id=person_id,
        acts_for_people=acts_for_people,
    )
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
