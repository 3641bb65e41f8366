"""Queue an email: a message row with its idempotency key, and the outbox event to send it."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import RootModel
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shared import history
from shared.models import Candidate, Message
from shared.outbox import add_to_batch
from shared.tasks import MESSAGES_PER_TASK, SEND_MESSAGES


@dataclass(frozen=True)
class Email:
    """An email to queue: its kind, its idempotency key, to whom, and what it says."""

    kind: str
    idempotency_key: str
    candidate: Candidate
    context: dict[str, Any]
    dossier_id: uuid.UUID | None = None
    application_id: uuid.UUID | None = None
    calendar_method: str | None = None
    calendar_ics: str | None = None

    def row(self) -> dict[str, Any]:
        """Its message row, with a new id."""
        return {
            "id": uuid.uuid4(),
            "idempotency_key": self.idempotency_key,
            "kind": self.kind,
            "language": self.candidate.language,
            "candidate_id": self.candidate.id,
            "dossier_id": self.dossier_id,
            "application_id": self.application_id,
            "to_address": self.candidate.email,
            "to_name": self.candidate.full_name,
            "context": self.context,
            "calendar_method": self.calendar_method,
            "calendar_ics": self.calendar_ics,
        }

    def history_entry(self, message_id: uuid.UUID) -> dict[str, Any]:
        return {
            "dossier_id": self.dossier_id,
            "application_id": self.application_id,
            "after": {"message_id": str(message_id), "to": self.candidate.email},
        }


def queue_message(
    session: Session,
    *,
    kind: str,
    idempotency_key: str,
    candidate: Candidate,
    context: dict[str, Any],
    actor: str,
    dossier_id: uuid.UUID | None = None,
    application_id: uuid.UUID | None = None,
    calendar_method: str | None = None,
    calendar_ics: str | None = None,
    known_new: bool = False,
) -> Message:
    """Queue one email to `candidate`, once per idempotency key, in the caller's transaction.

    `known_new`: the caller checked (in bulk) that no message has this key yet."""
    existing = None if known_new else _queued(session, idempotency_key)
    if existing is not None:
        return existing
    email = Email(
        kind,
        idempotency_key,
        candidate,
        context,
        dossier_id,
        application_id,
        calendar_method,
        calendar_ics,
    )
    message = Message(**email.row())
    session.add(message)
    _send(session, email, message.id)
    history.record(
        session, actor=actor, action=f"email_queued:{kind}", **email.history_entry(message.id)
    )
    return message


def queue_messages(session: Session, emails: Sequence[Email], *, actor: str) -> None:
    """Queue emails whose keys the caller knows to be new, in bulk: one INSERT for the
    messages and one per kind for their history entries (a trial's calendars, by fifties)."""
    rows = [email.row() for email in emails]
    if not rows:
        return
    session.execute(insert(Message), rows)
    entries: dict[str, list[dict[str, Any]]] = {}
    for email, row in zip(emails, rows, strict=True):
        _send(session, email, row["id"])
        entries.setdefault(email.kind, []).append(email.history_entry(row["id"]))
    for kind, kind_entries in entries.items():
        history.record_many(
            session, actor=actor, action=f"email_queued:{kind}", entries=kind_entries
        )


def _send(session: Session, email: Email, message_id: uuid.UUID) -> None:
    """The notifier sends it once the transaction commits, with others in blocks."""
    add_to_batch(
        session,
        task_name=SEND_MESSAGES,
        item=RootModel[uuid.UUID](message_id),
        idempotency_key=f"send:{email.idempotency_key}",
        size=MESSAGES_PER_TASK,
    )


def _queued(session: Session, idempotency_key: str) -> Message | None:
    """The message already queued under this key, in this transaction or before it. Without
    autoflush: a bulk action's rows then reach the database together, at commit."""
    for pending in session.new:
        if isinstance(pending, Message) and pending.idempotency_key == idempotency_key:
            return pending
    with session.no_autoflush:
        return session.scalar(select(Message).where(Message.idempotency_key == idempotency_key))
