"""Deliver message rows: queued → sending → sent | retrying | failed | unknown.

A task carries a block of message row ids (not RFC 5322 Message-IDs: those are mime.py's). They
are claimed and recorded a group at a time (one short transaction each way), and a group is sent
at once over this process' SMTP connections.
A claim gives each row a lease; a worker that dies in the middle of a group leaves at most that
group 'sending', and those rows become 'unknown' once their lease is over (found by beat's
delivery sweep, or by the next task that meets them), because they may have gone out: they are
never resent automatically. A transient failure sets the row's next attempt; the task's own
retry is the quick way back, and beat's sweep publishes the row again if that retry was lost.
"""

import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from services.notifier.mime import compose
from services.notifier.rate import wait_for_turn
from services.notifier.smtp import (
    Delivered,
    Outgoing,
    PermanentFailure,
    ServerUnavailable,
    TransientFailure,
    UnknownOutcome,
    send_all,
)
from shared.db import session_scope
from shared.messages import ENDED_BADLY, WAITING, abandon, record_ended_badly
from shared.models import Message, MessageStatus, utcnow
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
GROUP = 10  # messages claimed and recorded per transaction


def backoff_seconds(retries: int) -> int:
    """Exponential backoff, from 2 seconds to 5 minutes."""
    return int(min(300, 2 ** (retries + 1)))


def _send_lease() -> timedelta:
    """Longer than a claimed group can take to send: a 'sending' row older than this was
    abandoned. A group's messages share the connections, each send within its deadline."""
    s = get_settings()
    turns = math.ceil(GROUP / s.smtp_connections)
    return timedelta(seconds=turns * s.smtp_send_deadline + s.smtp_timeout + 30)


@dataclass
class Outcome:
    message_id: uuid.UUID  # the message row's id
    status: MessageStatus
    response: str
    subject: str | None = None
    server_unavailable: bool = False  # nothing more can go out before a retry
    retry_in: int | None = None  # seconds to the next attempt, when 'retrying'


def deliver(message_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Send each message once; returns the ids to try again later: transient failures, and
    rows that another delivery is sending right now."""
    settings = get_settings()
    later: list[uuid.UUID] = []
    unavailable: str | None = None  # once the server is unreachable, the rest wait for a retry
    for start in range(0, len(message_ids), GROUP):
        group = message_ids[start : start + GROUP]
        if unavailable is None and settings.smtp_rate_per_second:
            # The global rate, before the claim (a wait never outlives a lease), for the rows
            # still waiting: a task published again by beat's sweep spends no turn on rows that
            # another task already sent.
            for _ in _waiting(group):
                wait_for_turn(settings)
        claimed, busy = _claim(group)
        later += busy
        outcomes = _send_group(claimed, settings, unavailable)
        _finish(outcomes)
        later += [o.message_id for o in outcomes if o.status == MessageStatus.RETRYING]
        reasons = (o.response for o in outcomes if o.server_unavailable)
        unavailable = next((r.removeprefix("not sent: ") for r in reasons), unavailable)
    return later


def _waiting(group: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(Message.id).where(Message.id.in_(group), Message.status.in_(WAITING))
            )
        )


def _claim(group: Sequence[uuid.UUID]) -> tuple[list[Message], list[uuid.UUID]]:
    """Mark the group's messages as being sent; (those to send now, those sent elsewhere).

    One statement claims the messages waiting to be sent, locking them in id order; only the
    others (rarely any) are looked at one by one."""
    busy: list[uuid.UUID] = []
    now = utcnow()
    with session_scope() as session:
        waiting = (
            select(Message.id)
            .where(Message.id.in_(group), Message.status.in_(WAITING))
            .order_by(Message.id)
            .with_for_update()
        )
        claimed = list(
            session.scalars(
                update(Message)
                .where(Message.id.in_(waiting.scalar_subquery()))
                .values(
                    status=MessageStatus.SENDING,
                    attempts=Message.attempts + 1,
                    updated_at=now,
                    lease_expires_at=now + _send_lease(),
                )
                .returning(Message),
                execution_options={"synchronize_session": False},
            )
        )
        others = set(group) - {m.id for m in claimed}
        rows = (
            session.scalars(
                select(Message).where(Message.id.in_(others)).order_by(Message.id).with_for_update()
            ).all()
            if others
            else []
        )
        for missing in others - {m.id for m in rows}:
            log.error("message %s does not exist", missing)
        sending = [
            m for m in rows if m.status == MessageStatus.SENDING
        ]  # others: sent, failed, unknown
        busy = [m.id for m in sending if m.lease_expires_at and now < m.lease_expires_at]
        # A worker died while sending: it may have gone out, so never send it twice.
        abandon(session, [m for m in sending if m.id not in busy], actor="notifier")
    order = {message_id: n for n, message_id in enumerate(group)}
    return sorted(claimed, key=lambda m: order[m.id]), busy


def _send_group(
    claimed: Sequence[Message], settings: Settings, unavailable: str | None
) -> list[Outcome]:
    """Compose the claimed messages, then send them at once over this process' connections."""
    outcomes: list[Outcome] = []
    ready: list[tuple[Message, Outgoing]] = []
    for message in claimed:
        if unavailable is not None:
            outcomes.append(_transient(message, f"not sent: {unavailable}", None))
            continue
        try:
            ready.append((message, compose(message, settings)))
        except Exception as exc:  # a template or context error: trying again cannot fix it
            log.exception("message %s cannot be rendered", message.id)
            outcomes.append(
                Outcome(
                    message.id,
                    MessageStatus.FAILED,
                    f"cannot render the email: {type(exc).__name__}: {exc}",
                )
            )
    answers = send_all([outgoing for _, outgoing in ready], settings) if ready else []
    for (message, outgoing), answer in zip(ready, answers, strict=True):
        outcomes.append(_outcome(message, outgoing.subject, answer))
    return outcomes


def _transient(message: Message, response: str, subject: str | None) -> Outcome:
    if message.attempts >= MAX_ATTEMPTS:
        return Outcome(message.id, MessageStatus.FAILED, response, subject)
    retry_in = backoff_seconds(message.attempts - 1)
    return Outcome(message.id, MessageStatus.RETRYING, response, subject, retry_in=retry_in)


def _outcome(message: Message, subject: str, answer: Delivered | BaseException) -> Outcome:
    """What the server's answer (or the failure) means for the message row."""
    if isinstance(answer, Delivered):
        return Outcome(message.id, MessageStatus.SENT, str(answer), subject)
    if isinstance(answer, ServerUnavailable):
        outcome = _transient(message, str(answer), subject)
        outcome.server_unavailable = True
        return outcome
    if isinstance(answer, TransientFailure):
        return _transient(message, str(answer), subject)
    if isinstance(answer, PermanentFailure):
        return Outcome(message.id, MessageStatus.FAILED, str(answer), subject)
    if isinstance(answer, UnknownOutcome):
        return Outcome(message.id, MessageStatus.UNKNOWN, str(answer), subject)
    # Not an SMTP answer but a fault of ours: whether it left is not known, so never resend it.
    log.error("message %s: unexpected %r while sending", message.id, answer)
    return Outcome(
        message.id, MessageStatus.UNKNOWN, f"unexpected {type(answer).__name__}: {answer}", subject
    )


def _finish(outcomes: Sequence[Outcome]) -> None:
    """Record the outcomes, one statement per distinct change (a bulk send's group is usually
    one: sent, same answer, same subject); a failed or unknown email also goes to the history
    of the dossier or application."""
    if not outcomes:
        return
    now = utcnow()
    changes: dict[tuple[MessageStatus, str, str | None, int | None], list[uuid.UUID]] = {}
    for outcome in outcomes:
        subject = None if outcome.subject is None else outcome.subject[:500]
        change = (outcome.status, outcome.response[:2000], subject, outcome.retry_in)
        changes.setdefault(change, []).append(outcome.message_id)
    ended_badly = [o.message_id for o in outcomes if o.status in ENDED_BADLY]
    with session_scope() as session:
        for (status, response, subject, retry_in), ids in changes.items():
            values = {
                "status": status,
                "last_response": response,
                "sent_at": now if status == MessageStatus.SENT else None,
                "lease_expires_at": None,
                "next_attempt_at": None if retry_in is None else now + timedelta(seconds=retry_in),
            }
            session.execute(
                update(Message)
                .where(Message.id.in_(sorted(ids)))
                .values(values if subject is None else values | {"subject": subject})
                .execution_options(synchronize_session=False)
            )
        if ended_badly:
            messages = session.scalars(select(Message).where(Message.id.in_(ended_badly))).all()
            record_ended_badly(session, messages, actor="notifier")
