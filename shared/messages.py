"""Queue an email: a message row with its idempotency key, and the outbox event to send it."""

import uuid
from typing import Any

from pydantic import RootModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import history
from shared.models import Candidate, Message
from shared.outbox import add_to_batch
from shared.tasks import MESSAGES_PER_TASK, SEND_MESSAGES


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
    message = Message(
        id=uuid.uuid4(),
        idempotency_key=idempotency_key,
        kind=kind,
        language=candidate.language,
        candidate_id=candidate.id,
        dossier_id=dossier_id,
        application_id=application_id,
        to_address=candidate.email,
        to_name=candidate.full_name,
        context=context,
        calendar_method=calendar_method,
        calendar_ics=calendar_ics,
    )
    session.add(message)
    add_to_batch(
        session,
        task_name=SEND_MESSAGES,
        item=RootModel[uuid.UUID](message.id),
        idempotency_key=f"send:{idempotency_key}",
        size=MESSAGES_PER_TASK,
    )
    history.record(
        session,
        actor=actor,
        action=f"email_queued:{kind}",
        dossier_id=dossier_id,
        application_id=application_id,
        after={"message_id": str(message.id), "to": candidate.email},
    )
    return message


def _queued(session: Session, idempotency_key: str) -> Message | None:
    """The message already queued under this key, in this transaction or before it. Without
    autoflush: a bulk action's rows then reach the database together, at commit."""
    for pending in session.new:
        if isinstance(pending, Message) and pending.idempotency_key == idempotency_key:
            return pending
    with session.no_autoflush:
        return session.scalar(select(Message).where(Message.idempotency_key == idempotency_key))
