"""Append to the history of an application or a dossier (never edited, never deleted)."""

import uuid
from typing import Any

from sqlalchemy.orm import Session

from shared.models import HistoryEntry


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    application_id: uuid.UUID | None = None,
    dossier_id: uuid.UUID | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> HistoryEntry:
    """Add one history entry in the caller's transaction."""
    entry = HistoryEntry(
        actor=actor,
        action=action,
        application_id=application_id,
        dossier_id=dossier_id,
        before=before,
        after=after,
    )
    session.add(entry)
    return entry
