"""Internal notes (HR only) on applications and dossiers."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import history
from shared.models import Note


def add_note(
    *,
    session: Session,
    text: str,
    actor: str,
    application_id: uuid.UUID | None = None,
    dossier_id: uuid.UUID | None = None,
) -> Note:
    """Add a note; the history records that one was added, never its text."""
    note = Note(application_id=application_id, dossier_id=dossier_id, author=actor, text=text)
    session.add(note)
    session.flush()
    history.record(
        session,
        actor=actor,
        action="note_added",
        application_id=application_id,
        dossier_id=dossier_id,
        after={"note_id": str(note.id)},
    )
    return note


def list_notes(
    *,
    session: Session,
    application_id: uuid.UUID | None = None,
    dossier_id: uuid.UUID | None = None,
) -> Sequence[Note]:
    """The notes of an application or a dossier, oldest first."""
    query = select(Note).order_by(Note.created_at, Note.id)
    if application_id is not None:
        query = query.where(Note.application_id == application_id)
    if dossier_id is not None:
        query = query.where(Note.dossier_id == dossier_id)
    return session.scalars(query).all()
