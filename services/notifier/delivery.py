"""Deliver one message row: queued → sending → sent | retrying | failed | unknown."""

import logging
import uuid
from datetime import timedelta

from services.notifier.render import compose
from services.notifier.smtp import PermanentFailure, TransientFailure, UnknownOutcome, send_now
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


def _finish(message_id: uuid.UUID, status: str, response: str) -> None:
    with session_scope() as session:
        message = session.get(Message, message_id, with_for_update=True)
        assert message is not None
        message.status = status
        message.last_response = response[:2000]
        if status == "sent":
            message.sent_at = utcnow()


def deliver(message_id: uuid.UUID, *, last_attempt: bool) -> None:
    """Send the message once; RetryLater on a transient failure unless this is the last try."""
    message = _claim(message_id)
    if message is None:
        return
    settings = get_settings()
    try:
        response = send_now(compose(message, settings), settings)
    except TransientFailure as exc:
        _finish(message_id, "failed" if last_attempt else "retrying", str(exc))
        if not last_attempt:
            raise RetryLater(str(exc)) from exc
    except PermanentFailure as exc:
        _finish(message_id, "failed", str(exc))
    except UnknownOutcome as exc:
        _finish(message_id, "unknown", str(exc))
    else:
        _finish(message_id, "sent", response)
