"""The transactional outbox: an event is a row written in the caller's transaction.

Right after the commit the unit of work publishes the events it wrote and marks them
published; the relay (run by beat every few seconds) publishes whatever was left behind,
because the broker was down or the process died between commit and publish. An event can
thus be published twice; consumers make its effect happen once.
"""

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

from celery import Celery
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import get_sessionmaker
from shared.models import OutboxEvent, utcnow
from shared.tasks import QUEUE_OF_TASK

log = logging.getLogger(__name__)

Publish = Callable[[OutboxEvent], None]
_WRITTEN = "recrue.outbox.written"
RELAY_BATCH = 500


def add_event(
    session: Session, *, task_name: str, payload: BaseModel, idempotency_key: str
) -> OutboxEvent:
    """Write an event in the session's transaction; it is published once that commits."""
    event = OutboxEvent(
        id=uuid.uuid4(),
        task_name=task_name,
        queue=QUEUE_OF_TASK[task_name],
        payload=payload.model_dump(mode="json"),
        idempotency_key=idempotency_key,
    )
    session.add(event)
    session.info.setdefault(_WRITTEN, []).append(event.id)
    return event


def celery_publisher(app: Celery) -> Publish:
    """Publish an event as a Celery task on its queue, failing fast when the broker is down."""

    def publish(event: OutboxEvent) -> None:
        app.send_task(
            event.task_name,
            kwargs=event.payload,
            queue=event.queue,
            task_id=str(event.id),
            retry=False,
        )

    return publish


@contextmanager
def unit_of_work(publish: Publish) -> Iterator[Session]:
    """A transaction that publishes the events it wrote once it has committed."""
    session = get_sessionmaker()()
    try:
        yield session
        written = session.info.pop(_WRITTEN, [])
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    if written:
        publish_written(written, publish)


def publish_written(event_ids: Sequence[uuid.UUID], publish: Publish) -> int:
    """Publish just-committed events; any the broker refuses are left to the relay."""
    with get_sessionmaker().begin() as session:
        rows = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.id.in_(event_ids), OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.created_at)
        ).all()
        return _publish_rows(rows, publish)


def relay(publish: Publish, *, grace: timedelta) -> int:
    """Publish the events still unpublished `grace` after they were written."""
    with get_sessionmaker().begin() as session:
        rows = session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.published_at.is_(None),
                OutboxEvent.created_at < utcnow() - grace,
            )
            .order_by(OutboxEvent.created_at)
            .limit(RELAY_BATCH)
            # Two relays at once each take different rows (PostgreSQL; SQLite locks the file).
            .with_for_update(skip_locked=True)
        ).all()
        return _publish_rows(rows, publish)


def _publish_rows(rows: Sequence[OutboxEvent], publish: Publish) -> int:
    published = 0
    for event in rows:
        event.attempts += 1
        try:
            publish(event)
        except Exception as exc:  # the broker is down: stop, the relay will try again
            event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            log.warning("outbox: could not publish %s (%s); left for the relay", event.id, exc)
            break
        event.published_at = utcnow()
        published += 1
    return published
