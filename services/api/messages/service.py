"""Emails sent to candidates and their delivery state."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from services.api.errors import Conflict, NotFound
from services.api.pagination import Listing
from shared import messages as emails
from shared.messages import notify
from shared.models import Dossier, Message
from shared.privacy import ERASED_DOMAIN


def list_messages(
    *, dossier_id: uuid.UUID | None, application_id: uuid.UUID | None, status: str | None
) -> Listing:
    """The messages matching the filters, oldest first."""
    query = select(Message)
    if dossier_id:
        query = query.where(Message.dossier_id == dossier_id)
    if application_id:
        query = query.where(Message.application_id == application_id)
    if status:
        query = query.where(Message.status == status)
    return Listing(query, (Message.created_at, Message.id))


def write_to_candidates(
    *,
    session: Session,
    dossier_ids: list[uuid.UUID],
    subject: str | None,
    body: str | None,
    template: str | None,
    actor: str,
) -> list[Message]:
    """One message per selected dossier's candidate, written or from a template. Each request
    is a new batch: a repeat is answered by its Idempotency-Key, as every write is."""
    batch = uuid.uuid4()
    wanted = list(dict.fromkeys(dossier_ids))
    found = {
        d.id: d
        for d in session.scalars(
            select(Dossier)
            .where(Dossier.id.in_(wanted))
            .options(joinedload(Dossier.candidate), joinedload(Dossier.job))
        )
    }
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise NotFound(f"dossiers not found: {', '.join(missing)}", dossier_ids=missing)
    messages = [
        notify(
            session,
            template or "free_message",
            dossier,
            idempotency_key=f"{template or 'free_message'}:{batch}:{dossier.id}",
            context=(
                {"job_reference": dossier.job.reference}
                if template
                else {"subject": subject, "body": body}
            ),
            actor=actor,
        )
        for dossier in (found[i] for i in wanted)
    ]
    session.flush()
    return messages


def resend(*, session: Session, message_id: uuid.UUID, actor: str) -> Message:
    """Send a failed or unknown email again, on purpose; 409 naming any other state."""
    message = session.get(Message, message_id, with_for_update=True)
    if message is None:
        raise NotFound(f"message {message_id} not found")
    if message.status not in emails.ENDED_BADLY:
        raise Conflict(
            f"a message in state '{message.status}' cannot be resent; only "
            f"{' or '.join(emails.ENDED_BADLY)} ones",
            state=message.status,
        )
    if message.to_address.endswith(ERASED_DOMAIN):
        raise Conflict("the recipient's data was erased", state="anonymised")
    emails.resend(session, message, actor=actor)
    session.flush()
    return message
