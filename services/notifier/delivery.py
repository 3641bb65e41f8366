"""Deliver message rows: queued → sending → sent | retrying | failed | unknown.

A task carries a block of message ids. They are claimed and recorded a group at a time (one
short transaction each way), and sent one after the other over this process' SMTP connection.
A worker that dies in the middle of a group leaves at most that group 'sending': those rows
become 'unknown' once their lease has passed, because they may have gone out, and are never
resent automatically.
"""

import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from services.notifier.rate import wait_for_turn
from services.notifier.render import compose
from services.notifier.smtp import (
    Delivered,
    Outgoing,
    PermanentFailure,
    ServerUnavailable,
    TransientFailure,
    UnknownOutcome,
    send_all,
)
from shared import history
from shared.db import session_scope
from shared.models import Message, utcnow
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
GROUP = 10  # messages claimed and recorded per transaction
WAITING = ("queued", "retrying")  # the states a delivery may claim


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
        outcomes = _send_group(claimed, settings, unavailable)
        _finish(outcomes)
        later += [o.message_id for o in outcomes if o.status == "retrying"]
        reasons = (o.response for o in outcomes if o.server_unavailable)
        unavailable = next((r.removeprefix("not sent: ") for r in reasons), unavailable)
    return later


def _claim(group: Sequence[uuid.UUID]) -> tuple[list[Message], list[uuid.UUID]]:
    """Mark the group's messages as being sent; (those to send now, those sent elsewhere).

    One statement claims the messages waiting to be sent, locking them in id order; only the
    others (rarely any) are looked at one by one."""
    busy: list[uuid.UUID] = []
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
                .values(status="sending", attempts=Message.attempts + 1, updated_at=utcnow())
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
        for message in rows:
            if message.status != "sending":
                continue  # already sent, failed or unknown
            if utcnow() - message.updated_at < _send_lease():
                busy.append(message.id)  # another delivery of it is under way
                continue
            # A worker died while sending: it may have gone out, so never send it twice.
            message.status = "unknown"
            message.last_response = "the worker stopped during the send; not resent automatically"
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
                    message.id, "failed", f"cannot render the email: {type(exc).__name__}: {exc}"
                )
            )
    answers = send_all([outgoing for _, outgoing in ready], settings) if ready else []
    for (message, outgoing), answer in zip(ready, answers, strict=True):
        outcomes.append(_outcome(message, outgoing.subject, answer))
    return outcomes


def _transient(message: Message, response: str, subject: str | None) -> Outcome:
    last = message.attempts >= MAX_ATTEMPTS
    return Outcome(message.id, "failed" if last else "retrying", response, subject)


def _outcome(message: Message, subject: str, answer: Delivered | BaseException) -> Outcome:
    """What the server's answer (or the failure) means for the message row."""
    if isinstance(answer, Delivered):
        return Outcome(message.id, "sent", str(answer), subject)
    if isinstance(answer, ServerUnavailable):
        outcome = _transient(message, str(answer), subject)
        outcome.server_unavailable = True
        return outcome
    if isinstance(answer, TransientFailure):
        return _transient(message, str(answer), subject)
    if isinstance(answer, PermanentFailure):
        return Outcome(message.id, "failed", str(answer), subject)
    if isinstance(answer, UnknownOutcome):
        return Outcome(message.id, "unknown", str(answer), subject)
    # Not an SMTP answer but a fault of ours: whether it left is not known, so never resend it.
    log.error("message %s: unexpected %r while sending", message.id, answer)
    return Outcome(message.id, "unknown", f"unexpected {type(answer).__name__}: {answer}", subject)


def _finish(outcomes: Sequence[Outcome]) -> None:
    """Record the outcomes, one statement per distinct change (a bulk send's group is usually
    one: sent, same answer, same subject); a failure also goes to the history of the dossier
    or application."""
    if not outcomes:
        return
    now = utcnow()
    changes: dict[tuple[str, str, str | None], list[uuid.UUID]] = {}
    for outcome in outcomes:
        subject = None if outcome.subject is None else outcome.subject[:500]
        change = (outcome.status, outcome.response[:2000], subject)
        changes.setdefault(change, []).append(outcome.message_id)
    failed = [o.message_id for o in outcomes if o.status == "failed"]
    with session_scope() as session:
        for (status, response, subject), ids in changes.items():
            values = {
                "status": status,
                "last_response": response,
                "sent_at": now if status == "sent" else None,
            }
            session.execute(
                update(Message)
                .where(Message.id.in_(sorted(ids)))
                .values(values if subject is None else values | {"subject": subject})
                .execution_options(synchronize_session=False)
            )
        if not failed:
            return
        for message in session.scalars(select(Message).where(Message.id.in_(failed))):
            history.record(
                session,
                actor="notifier",
                action=f"email_failed:{message.kind}",
                dossier_id=message.dossier_id,
                application_id=message.application_id,
                after={"message_id": str(message.id), "response": message.last_response},
            )
