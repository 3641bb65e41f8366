"""Beat's delivery sweep: the message rows, not the broker, say which emails remain to send.

A task can be lost after its rows committed: Redis restarted without persistence, a worker
killed after it read the task from the embedded broker, a retry message gone. Every tick:
- a `sending` row whose lease is over was abandoned by its worker: it becomes `unknown` (it may
  have left; never resent automatically) and is listed in HR's notices;
- a `queued` or `retrying` row that no task took DELIVERY_REDELIVER_SECONDS after it was due
  is published again. A duplicate task is harmless: the notifier claims a row once.
Two beats at once take different rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one
writer at a time).
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from shared.db import session_scope
from shared.messages import WAITING, abandon
from shared.models import Message, MessageStatus, utcnow
from shared.outbox import Publish, unrecorded
from shared.settings import get_settings
from shared.tasks import MESSAGES_PER_TASK, SEND_MESSAGES, SendMessages

log = logging.getLogger(__name__)
SWEEP_BATCH = 1000  # rows per tick and kind; the next tick takes the rest


@dataclass(frozen=True)
class Swept:
    abandoned: int
    republished: int


def sweep_deliveries(*, publish: Publish) -> Swept:
    """Turn abandoned sends into `unknown`, and publish again the waiting rows no task took."""
    return Swept(abandoned=_abandon_expired_leases(), republished=_republish_due(publish))


def _abandon_expired_leases() -> int:
    with session_scope() as session:
        expired = session.scalars(
            select(Message)
            .where(Message.status == MessageStatus.SENDING, Message.lease_expires_at < utcnow())
            .order_by(Message.lease_expires_at)
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        abandon(session, expired, actor="scheduler")
        return len(expired)


def _republish_due(publish: Publish) -> int:
    now = utcnow()
    overdue = now - timedelta(seconds=get_settings().delivery_redeliver_seconds)
    with session_scope() as session:
        due = session.scalars(
            select(Message.id)
            .where(Message.status.in_(WAITING), Message.next_attempt_at < overdue)
            .order_by(Message.next_attempt_at)
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        published: list[uuid.UUID] = []
        for start in range(0, len(due), MESSAGES_PER_TASK):
            block = list(due[start : start + MESSAGES_PER_TASK])
            try:
                publish(unrecorded(SEND_MESSAGES, SendMessages(items=block)))
            except Exception as exc:  # the broker is down: the next tick tries again
                log.warning("delivery sweep: could not publish (%s); next tick", exc)
                break
            published += block
        if published:  # due again one redelivery period from now, if still not taken
            session.execute(
                update(Message)
                .where(Message.id.in_(published), Message.status.in_(WAITING))
                .values(next_attempt_at=now)
                .execution_options(synchronize_session=False)
            )
            log.warning("delivery sweep: published %d waiting emails again", len(published))
        return len(published)
