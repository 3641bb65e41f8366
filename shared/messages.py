"""Queue an email: a message row with its idempotency key, and the outbox event to send it."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import history
from shared.models import Candidate, Message
from shared.outbox import add_event
from shared.tasks import SEND_MESSAGE, SendMessage


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
) -> Message:
    """Queue one email to `candidate`, once per idempotency key, in the caller's transaction."""
    existing = session.scalar(select(Message).where(Message.idempotency_key == idempotency_key))
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
    add_event(
        session,
        task_name=SEND_MESSAGE,
        payload=SendMessage(message_id=message.id),
        idempotency_key=f"send:{idempotency_key}",
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
