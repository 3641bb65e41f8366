"""Queue an email: a message row with its idempotency key, and the outbox event to send it.

Also the changes of state that happen outside a send: an abandoned send becomes `unknown`
(both the notifier and beat's sweep find them), and HR resends a failed or unknown email on
purpose. `failed` and `unknown` are written to the history, which lists them in HR's notices.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import RootModel
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shared import history
from shared.acting import acting
from shared.emails.kinds import KINDS
from shared.models import Application, Candidate, Dossier, Message, MessageStatus, Person, utcnow
from shared.outbox import add_to_batch
from shared.tasks import MESSAGES_PER_TASK, SEND_MESSAGES

# the states a delivery may claim
WAITING = frozenset({MessageStatus.QUEUED, MessageStatus.RETRYING})
# the states HR may resend from, on purpose
ENDED_BADLY = frozenset({MessageStatus.FAILED, MessageStatus.UNKNOWN})
ABANDONED = "the worker stopped during the send; not resent automatically"
_KEYS_PER_QUERY = 1000  # bound parameters of one IN: well under SQLite's limit


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

    def __post_init__(self) -> None:
        _check(self.kind, self.context)

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
    _send(session, email.idempotency_key, message.id)
    history.record(
        session, actor=actor, action=f"email_queued:{kind}", **email.history_entry(message.id)
    )
    return message


def _check(kind_name: str, context: dict[str, Any]) -> None:
    """A kind that does not exist, or a context without a key its templates require, is
    refused here, at the call, rather than found by the notifier as a failed email."""
    kind = KINDS.get(kind_name)
    if kind is None:
        raise ValueError(f"unknown email kind {kind_name!r}")
    missing = sorted(set(kind.required) - set(context))
    if missing:
        raise ValueError(f"a {kind_name} email needs {', '.join(missing)} in its context")


def queue_to_person(
    session: Session,
    *,
    kind: str,
    idempotency_key: str,
    person: Person,
    context: dict[str, Any],
    calendar_method: str | None = None,
    calendar_ics: str | None = None,
) -> Message:
    """Queue one email to a person of the administration (an examiner), once per idempotency
    key, in the caller's transaction; it belongs to no dossier, hence no history entry (the
    row itself records who had it sent)."""
    context = {"candidate_name": person.name, **context}
    _check(kind, context)
    existing = _queued(session, idempotency_key)
    if existing is not None:
        return existing
    message = Message(
        id=uuid.uuid4(),
        idempotency_key=idempotency_key,
        kind=kind,
        language=person.language,
        to_address=person.email,
        to_name=person.name,
        context=context,
        calendar_method=calendar_method,
        calendar_ics=calendar_ics,
    )
    session.add(message)
    _send(session, idempotency_key, message.id)
    return message


def notify(
    session: Session,
    kind: str,
    about: Dossier | Application,
    *,
    actor: str,
    context: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    dossier_id: uuid.UUID | None = None,
    **options: Any,
) -> Message:
    """Queue the `kind` email to the candidate of a dossier or an application, once per
    idempotency key (by default `<kind>:<its id>`). Its context holds the candidate's name and
    the job's title (None for a spontaneous application), with `context` added; the message is
    filed under the dossier, or the application (and `dossier_id` if it has one by then).
    `options` go to `queue_message` (calendar_method, calendar_ics, known_new)."""
    job = about.job
    common = {"candidate_name": about.candidate.full_name, "job_title": job.title if job else None}
    is_dossier = isinstance(about, Dossier)
    return queue_message(
        session,
        kind=kind,
        idempotency_key=idempotency_key or f"{kind}:{about.id}",
        candidate=about.candidate,
        context=common | (context or {}),
        actor=actor,
        dossier_id=about.id if is_dossier else dossier_id,
        application_id=None if is_dossier else about.id,
        **options,
    )


def queue_messages(session: Session, emails: Sequence[Email], *, actor: str) -> None:
    """Queue emails whose keys the caller knows to be new, in bulk: one INSERT for the
    messages and one per kind for their history entries (a trial's calendars, by fifties)."""
    who = acting(session).columns()
    rows = [{**email.row(), **who} for email in emails]
    if not rows:
        return
    session.execute(insert(Message), rows)
    entries: dict[str, list[dict[str, Any]]] = {}
    for email, row in zip(emails, rows, strict=True):
        _send(session, email.idempotency_key, row["id"])
        entries.setdefault(email.kind, []).append(email.history_entry(row["id"]))
    for kind, kind_entries in entries.items():
        history.record_many(
            session, actor=actor, action=f"email_queued:{kind}", entries=kind_entries
        )


def queued_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of these idempotency keys have their message already (a block delivered twice, a
    reminder sent at an earlier tick): one query per thousand keys, not one per key."""
    found: set[str] = set()
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        found.update(
            session.scalars(
                select(Message.idempotency_key).where(
                    Message.idempotency_key.in_(keys[start : start + _KEYS_PER_QUERY])
                )
            )
        )
    return found


def _send(session: Session, event_key: str, message_id: uuid.UUID) -> None:
    """The notifier sends it once the transaction commits, with others in blocks."""
    add_to_batch(
        session,
        task_name=SEND_MESSAGES,
        item=RootModel[uuid.UUID](message_id),
        idempotency_key=f"send:{event_key}",
        size=MESSAGES_PER_TASK,
    )


def resend(session: Session, message: Message, *, actor: str) -> None:
    """Send a failed or unknown email again, on HR's decision (the caller checked its state):
    queued with fresh attempts, under the same idempotency key, so the same Message-ID."""
    before = {"status": message.status, "last_response": message.last_response}
    message.status = MessageStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.lease_expires_at = None
    message.last_response = None
    _send(session, f"{message.idempotency_key}:resend:{uuid.uuid4()}", message.id)
    history.record(
        session,
        actor=actor,
        action=f"email_resent:{message.kind}",
        dossier_id=message.dossier_id,
        application_id=message.application_id,
        before=before,
        after={"message_id": str(message.id), "to": message.to_address},
    )


def abandon(session: Session, messages: Sequence[Message], *, actor: str) -> None:
    """Sends whose worker stopped (their lease is over): the email may have left, so it is
    never sent again automatically; `unknown`, for HR to check and resend on purpose."""
    for message in messages:
        message.status = MessageStatus.UNKNOWN
        message.lease_expires_at = None
        message.last_response = ABANDONED
    record_ended_badly(session, messages, actor=actor)


def record_ended_badly(session: Session, messages: Sequence[Message], *, actor: str) -> None:
    """Write a failed or unknown email to its dossier's or application's history, where HR's
    notices find it, with the way to send it again."""
    for message in messages:
        history.record(
            session,
            actor=actor,
            action=f"email_{message.status}:{message.kind}",
            dossier_id=message.dossier_id,
            application_id=message.application_id,
            after={
                "message_id": str(message.id),
                "response": message.last_response,
                "resend": f"POST /api/v1/messages/{message.id}/resend",
            },
        )


def _queued(session: Session, idempotency_key: str) -> Message | None:
    """The message already queued under this key, in this transaction or before it. Without
    autoflush: a bulk action's rows then reach the database together, at commit."""
    for pending in session.new:
        if isinstance(pending, Message) and pending.idempotency_key == idempotency_key:
            return pending
    with session.no_autoflush:
        return session.scalar(select(Message).where(Message.idempotency_key == idempotency_key))
