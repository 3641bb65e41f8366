"""Deliver message rows: queued → sending → sent | retrying | failed | unknown.

A task carries a block of message ids. They are claimed and recorded a group at a time (one
short transaction each way), and sent one after the other over this process' SMTP connection.
A worker that dies in the middle of a group leaves at most that group 'sending': those rows
become 'unknown' once their lease has passed, because they may have gone out, and are never
resent automatically.
"""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.header import decode_header, make_header

from sqlalchemy import select

from services.notifier.rate import wait_for_turn
from services.notifier.render import compose
from services.notifier.smtp import (
    Outgoing,
    PermanentFailure,
    ServerUnavailable,
    TransientFailure,
    UnknownOutcome,
    send_now,
)
from shared import history
from shared.db import session_scope
from shared.models import Message, utcnow
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
GROUP = 10  # messages claimed and recorded per transaction
FINAL_STATES = frozenset({"sent", "failed", "unknown"})


def backoff_seconds(retries: int) -> int:
    """Exponential backoff, from 2 seconds to 5 minutes."""
    return int(min(300, 2 ** (retries + 1)))


def _send_lease() -> timedelta:
    # Longer than any send can take: a 'sending' row older than this was abandoned.
    return timedelta(seconds=3 * get_settings().smtp_timeout + 30)


@dataclass
class Outcome:
    message_id: uuid.UUID
    status: str
    response: str
    subject: str | None = None
    server_unavailable: bool = False  # nothing more can go out before a retry


def deliver(message_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Send each message once; returns the ids to try again later: transient failures, and
    rows that another delivery is sending right now."""
    settings = get_settings()
    later: list[uuid.UUID] = []
    unavailable: str | None = None  # once the server is unreachable, the rest wait for a retry
    for start in range(0, len(message_ids), GROUP):
        group = message_ids[start : start + GROUP]
        if unavailable is None:
            for _ in group:  # the global rate, before the claim: a wait never outlives a lease
                wait_for_turn(settings)
        claimed, busy = _claim(group)
        later += busy
        outcomes = []
        for message in claimed:
            outcome = _attempt(message, settings, unavailable)
            if outcome.server_unavailable:
                unavailable = outcome.response
            outcomes.append(outcome)
        _finish(outcomes)
        later += [o.message_id for o in outcomes if o.status == "retrying"]
    return later


def _claim(group: Sequence[uuid.UUID]) -> tuple[list[Message], list[uuid.UUID]]:
    """Mark the group's messages as being sent; (those to send now, those sent elsewhere)."""
    claimed: list[Message] = []
    busy: list[uuid.UUID] = []
    with session_scope() as session:
        rows = session.scalars(
            select(Message).where(Message.id.in_(group)).order_by(Message.id).with_for_update()
        ).all()
        for missing in set(group) - {m.id for m in rows}:
            log.error("message %s does not exist", missing)
        for message in rows:
            if message.status in FINAL_STATES:
                continue
            if message.status == "sending":
                if utcnow() - message.updated_at < _send_lease():
                    busy.append(message.id)  # another delivery of it is under way
                    continue
                # A worker died while sending: it may have gone out, so never send it twice.
                message.status = "unknown"
                message.last_response = (
                    "the worker stopped during the send; not resent automatically"
                )
                continue
            message.status = "sending"
            message.attempts += 1
            claimed.append(message)
    order = {message_id: n for n, message_id in enumerate(group)}
    return sorted(claimed, key=lambda m: order[m.id]), busy


def _attempt(message: Message, settings: Settings, unavailable: str | None) -> Outcome:
    """Compose and send one claimed message, unless the server was found unavailable."""
    last = message.attempts >= MAX_ATTEMPTS
    if unavailable is not None:
        return Outcome(message.id, "failed" if last else "retrying", f"not sent: {unavailable}")
    try:
        mime = compose(message, settings)
        email, subject = Outgoing.of(mime), str(make_header(decode_header(mime["Subject"])))
    except Exception as exc:  # a template or context error: trying again cannot fix it
        log.exception("message %s cannot be rendered", message.id)
        return Outcome(
            message.id, "failed", f"cannot render the email: {type(exc).__name__}: {exc}"
        )
    try:
        delivered = send_now(email, settings)
    except ServerUnavailable as exc:
        return Outcome(message.id, "failed" if last else "retrying", str(exc), subject, True)
    except TransientFailure as exc:
        return Outcome(message.id, "failed" if last else "retrying", str(exc), subject)
    except PermanentFailure as exc:
        return Outcome(message.id, "failed", str(exc), subject)
    except UnknownOutcome as exc:
        return Outcome(message.id, "unknown", str(exc), subject)
    return Outcome(message.id, "sent", str(delivered), subject)


def _finish(outcomes: Sequence[Outcome]) -> None:
    """Record the outcomes; a failure also goes to the history of the dossier or application."""
    if not outcomes:
        return
    with session_scope() as session:
        rows = {
            m.id: m
            for m in session.scalars(
                select(Message)
                .where(Message.id.in_([o.message_id for o in outcomes]))
                .order_by(Message.id)
                .with_for_update()
            )
        }
        for outcome in outcomes:
            message = rows[outcome.message_id]
            message.status = outcome.status
            message.last_response = outcome.response[:2000]
            if outcome.subject is not None:
                message.subject = outcome.subject[:500]
            if outcome.status == "sent":
                message.sent_at = utcnow()
            if outcome.status == "failed":
                history.record(
                    session,
                    actor="notifier",
                    action=f"email_failed:{message.kind}",
                    dossier_id=message.dossier_id,
                    application_id=message.application_id,
                    after={"message_id": str(message.id), "response": message.last_response},
                )
