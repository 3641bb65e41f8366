"""Deliver one message row: queued → sending → sent | retrying | failed | unknown."""

import logging
import uuid
from datetime import timedelta

from services.notifier.rate import wait_for_turn
from services.notifier.render import compose
from services.notifier.smtp import PermanentFailure, TransientFailure, UnknownOutcome, send_now
from shared import history
from shared.db import session_scope
from shared.models import Message, utcnow
from shared.settings import get_settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FINAL_STATES = frozenset({"sent", "failed", "unknown"})


class RetryLater(Exception):
    """Not delivered yet: the task retries with backoff."""


def backoff_seconds(retries: int) -> int:
    """Exponential backoff, from 2 seconds to 5 minutes."""
    return int(min(300, 2 ** (retries + 1)))


def _send_lease() -> timedelta:
    # Longer than any send can take: a 'sending' row older than this was abandoned.
    return timedelta(seconds=3 * get_settings().smtp_timeout + 30)


def _claim(message_id: uuid.UUID) -> Message | None:
    """Mark the message as being sent, unless it was already handled; None means nothing to do."""
    with session_scope() as session:
        message = session.get(Message, message_id, with_for_update=True)
        if message is None:
            log.error("message %s does not exist", message_id)
            return None
        if message.status in FINAL_STATES:
            return None
        if message.status == "sending":
            if utcnow() - message.updated_at < _send_lease():
                raise RetryLater("another delivery of this message is under way")
            # A worker died while sending: it may have gone out, so never send it twice.
            message.status = "unknown"
            message.last_response = "the worker stopped during the send; not resent automatically"
            return None
        message.status = "sending"
        message.attempts += 1
        return message


def _finish(message_id: uuid.UUID, status: str, response: str, subject: str | None = None) -> None:
    """Record the outcome; a failure also goes to the history of the dossier or application."""
    with session_scope() as session:
        message = session.get(Message, message_id, with_for_update=True)
        assert message is not None
        message.status = status
        message.last_response = response[:2000]
        if subject is not None:
            message.subject = subject[:500]
        if status == "sent":
            message.sent_at = utcnow()
        if status == "failed":
            history.record(
                session,
                actor="notifier",
                action=f"email_failed:{message.kind}",
                dossier_id=message.dossier_id,
                application_id=message.application_id,
                after={"message_id": str(message.id), "response": message.last_response},
            )


def deliver(message_id: uuid.UUID, *, last_attempt: bool) -> None:
    """Send the message once; RetryLater on a transient failure unless this is the last try."""
    settings = get_settings()
    wait_for_turn(settings)  # the global rate, before the claim: a wait never outlives a lease
    message = _claim(message_id)
    if message is None:
        return
    try:
        email = compose(message, settings)
    except Exception as exc:  # a template or context error: trying again cannot fix it
        log.exception("message %s cannot be rendered", message_id)
        _finish(message_id, "failed", f"cannot render the email: {type(exc).__name__}: {exc}")
        return
    subject = str(email["Subject"])
    try:
        delivered = send_now(email, settings)
    except TransientFailure as exc:
        _finish(message_id, "failed" if last_attempt else "retrying", str(exc), subject)
        if not last_attempt:
            raise RetryLater(str(exc)) from exc
    except PermanentFailure as exc:
        _finish(message_id, "failed", str(exc), subject)
    except UnknownOutcome as exc:
        _finish(message_id, "unknown", str(exc), subject)
    else:
        _finish(message_id, "sent", str(delivered), subject)
