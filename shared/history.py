"""Append to the history of an application or a dossier (never edited, never deleted)."""

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from shared.acting import acting
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


def record_many(
    session: Session, *, actor: str, action: str, entries: Iterable[dict[str, Any]]
) -> None:
    """Add the entries of one action on many dossiers or applications at once (each entry:
    `dossier_id` or `application_id`, `before`, `after`), in one statement instead of one
    object each: a whole trial's invitations or postponement writes thousands."""
    who = acting(session).columns()
    rows = [
        {
            **who,
            "actor": actor,
            "action": action,
            "application_id": entry.get("application_id"),
            "dossier_id": entry.get("dossier_id"),
            "before": entry.get("before"),
            "after": entry.get("after"),
        }
        for entry in entries
    ]
    if rows:
        session.execute(insert(HistoryEntry), rows)
