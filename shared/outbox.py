"""The transactional outbox: an event is a row written in the caller's transaction.

Right after the commit the unit of work publishes the events it wrote; a thread of the process
marks them published a few milliseconds later, many in one UPDATE (`_Marks`), so that a request
does not pay a transaction of its own for its marks. The relay (run by beat every few seconds)
publishes whatever was left unmarked OUTBOX_RELAY_GRACE_SECONDS after it was written: the broker
was down, the process died between commit and publish, or before its marks were written. An
event can thus be published twice; consumers make its effect happen once.

A task the broker loses (Redis restarted without persistence, a worker killed after it read
the task from the embedded broker) must not lose the effect either. For the tasks of
`TRACKED_TASKS` the consumer marks the event done in the transaction of its effect
(`mark_done`), and the relay publishes again an event published but still not done
DELIVERY_REDELIVER_SECONDS later. Emails need no such tracking: their rows are swept
(`services/scheduler/deliveries.py`).
"""

import atexit
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, cast

from celery import Celery
from pydantic import BaseModel
from sqlalchemy import Connection, Table, and_, or_, select, update
from sqlalchemy.orm import Session

from shared.db import get_engine, get_sessionmaker, session_scope
from shared.models import OutboxEvent, utcnow
from shared.tasks import QUEUE_OF_TASK, TRACKED_TASKS

log = logging.getLogger(__name__)

Publish = Callable[[OutboxEvent], None]
_WRITTEN = "recrue.outbox.written"
_BATCHES = "recrue.outbox.batches"
RELAY_BATCH = 500


def add_to_batch(
    session: Session, *, task_name: str, item: BaseModel, idempotency_key: str, size: int
) -> OutboxEvent:
    """Add an item to the transaction's open batch event of `task_name` (payload `{"items":
    [...]}`), or start a new batch, keyed by this item's key, when there is none or it is full."""
    batches = session.info.setdefault(_BATCHES, {})
    event = batches.get(task_name)
    if event is None or len(event.payload["items"]) >= size:
        event = batches[task_name] = _write(session, task_name, {"items": []}, idempotency_key)
    # A new list, so that the ORM sees the change even once the row was flushed.
    event.payload = {"items": [*event.payload["items"], item.model_dump(mode="json")]}
    return event


def _write(
    session: Session, task_name: str, payload: dict[str, Any], idempotency_key: str
) -> OutboxEvent:
    event = OutboxEvent(
        id=uuid.uuid4(),
        task_name=task_name,
        queue=QUEUE_OF_TASK[task_name],
        payload=payload,
        idempotency_key=idempotency_key,
    )
    session.add(event)
    session.info.setdefault(_WRITTEN, []).append(event)
    return event


def unrecorded(task_name: str, payload: BaseModel) -> OutboxEvent:
    """An event to publish at once and never write: for a sweep, whose rows already record
    what remains to do (a publish that fails is tried again at its next run)."""
    return OutboxEvent(
        id=uuid.uuid4(),
        task_name=task_name,
        queue=QUEUE_OF_TASK[task_name],
        payload=payload.model_dump(mode="json"),
    )


def celery_publisher(app: Celery) -> Publish:
    """Publish an event as a Celery task on its queue, failing fast when the broker is down."""

    def publish(event: OutboxEvent) -> None:
        app.send_task(
            event.task_name,
            kwargs=event.payload,
            queue=event.queue,
            task_id=str(event.id),
            retry=False,
            # Given, so that Celery does not write a repr of the payload into the message
            # (about 4% of a booking's CPU); the worker's logs name the task and its id.
            argsrepr="",
            kwargsrepr="",
        )

    return publish


@contextmanager
def unit_of_work(publish: Publish) -> Iterator[Session]:
    """A transaction that publishes the events it wrote once it has committed."""
    with session_scope() as session:
        yield session
        written = session.info.pop(_WRITTEN, [])
        session.info.pop(_BATCHES, None)
    if written:
        publish_written(written, publish)


def publish_written(events: Sequence[OutboxEvent], publish: Publish) -> int:
    """Publish just-committed events and have them marked; any the broker refuses await the
    relay (that refusal is written at once: an operator looking at the outbox sees it)."""
    published, error = _publish(events, publish)
    if error:
        with get_engine().begin() as connection:  # no ORM session: plain UPDATEs
            _mark(connection, events, published, error)
    else:
        _marks.add(events)
    return len(published)


class _Marks:
    """The marks of the events this process published right after their commit, written by one
    thread of the process, a few milliseconds later and many in one UPDATE: a booking or a
    decision costs the API a transaction less. A mark that never lands (the process died first,
    the database refused it) only means that the relay publishes its event again after
    OUTBOX_RELAY_GRACE_SECONDS: at least once, as for a publish that never happened."""

    WINDOW = 0.02  # seconds a mark waits for others to share its UPDATE

    def __init__(self) -> None:
        self._start()
        # A forked child (a prefork worker) has neither the parent's thread nor its pending
        # marks, and must not inherit a lock that thread held at the fork.
        os.register_at_fork(after_in_child=self._start)

    def _start(self) -> None:
        self._changed = threading.Condition()
        self._writing = threading.Lock()  # one flush at a time
        self._pending: list[OutboxEvent] = []
        self._thread: threading.Thread | None = None

    def add(self, events: Sequence[OutboxEvent]) -> None:
        with self._changed:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._write_forever, daemon=True, name="outbox-marks"
                )
                self._thread.start()
            self._pending.extend(events)
            self._changed.notify()

    def flush(self) -> None:
        """Write the marks waiting now (at exit, and for tests that look at them at once): when
        it returns, every mark added before it was called is written (or given up)."""
        with self._writing:
            with self._changed:
                events, self._pending = self._pending, []
            if not events:
                return
            try:
                with get_engine().begin() as connection:
                    _mark(connection, events, [event.id for event in events], None)
            except Exception as exc:  # the relay publishes these again: at least once
                log.warning("outbox: could not mark %d published events (%s)", len(events), exc)

    def _write_forever(self) -> None:
        while True:
            with self._changed:
                while not self._pending:
                    self._changed.wait()
            time.sleep(self.WINDOW)
            self.flush()


_marks = _Marks()
atexit.register(_marks.flush)
flush_marks = _marks.flush


def relay(publish: Publish, *, grace: timedelta, redeliver: timedelta) -> int:
    """Publish the events still unpublished `grace` after they were written, and again those
    of a tracked task still not done `redeliver` after they were published."""
    now = utcnow()
    with get_sessionmaker().begin() as session:
        rows = session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.done_at.is_(None),
                or_(
                    and_(
                        OutboxEvent.published_at.is_(None),
                        OutboxEvent.created_at < now - grace,
                    ),
                    OutboxEvent.published_at < now - redeliver,
                ),
            )
            .order_by(OutboxEvent.created_at)
            .limit(RELAY_BATCH)
            # Two relays at once each take different rows (PostgreSQL; SQLite locks the file).
            .with_for_update(skip_locked=True)
        ).all()
        published, error = _publish(rows, publish)
        _mark(session, rows, published, error)
        return len(published)


def _publish(events: Sequence[OutboxEvent], publish: Publish) -> tuple[list[uuid.UUID], str | None]:
    """Publish in order until the broker refuses one; the ids published and that error."""
    published: list[uuid.UUID] = []
    for event in events:
        try:
            publish(event)
        except Exception as exc:  # the broker is down: stop, the relay will try again
            log.warning("outbox: could not publish %s (%s); left for the relay", event.id, exc)
            return published, f"{type(exc).__name__}: {exc}"[:2000]
        published.append(event.id)
    return published, None


def _mark(
    executor: Session | Connection,
    events: Sequence[OutboxEvent],
    published: list[uuid.UUID],
    error: str | None,
) -> None:
    table = cast(Table, OutboxEvent.__table__)  # Core UPDATEs: no ORM bookkeeping
    attempts = table.c.attempts + 1
    now = utcnow()
    tracked = {event.id for event in events if event.task_name in TRACKED_TASKS}
    for ids, done in (
        ([i for i in published if i in tracked], None),
        ([i for i in published if i not in tracked], now),
    ):
        if ids:
            executor.execute(
                update(table)
                .where(table.c.id.in_(ids))
                .values(published_at=now, done_at=done, attempts=attempts)
            )
    if error:
        failed = events[len(published)].id
        executor.execute(
            update(table).where(table.c.id == failed).values(last_error=error, attempts=attempts)
        )


def mark_done(session: Session, event_id: uuid.UUID) -> None:
    """Record, in the consumer's transaction, that the event's effect is committed: the relay
    stops publishing it again."""
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id == event_id, OutboxEvent.done_at.is_(None))
        .values(done_at=utcnow())
        .execution_options(synchronize_session=False)
    )
