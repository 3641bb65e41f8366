"""Rows kept only for a while: the answers to Idempotency-Keys."""

from datetime import timedelta

from sqlalchemy import delete

from shared.db import session_scope
from shared.models import IdempotentRequest, utcnow
from shared.settings import get_settings


def forget_idempotency_keys() -> int:
    """Delete the keys older than IDEMPOTENCY_KEY_HOURS; returns how many (two beats at once
    delete each row once)."""
    older = utcnow() - timedelta(hours=get_settings().idempotency_key_hours)
    with session_scope() as session:
        result = session.execute(
            delete(IdempotentRequest).where(IdempotentRequest.created_at < older)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
