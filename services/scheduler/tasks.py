"""The scheduler's tasks: validate the payload, call a function, let the retry policy act."""

import uuid
from datetime import timedelta

from celery import Task

from services.scheduler import deadlines
from services.scheduler.availability import sweep_unavailability as bring_back_due
from services.scheduler.deliveries import sweep_deliveries as sweep_message_rows
from services.scheduler.housekeeping import forget_idempotency_keys as forget_old_keys
from services.scheduler.invitations import send_calendars as build_and_queue_calendars
from services.scheduler.replies import poll as poll_mailbox
from services.scheduler.retention import send_renewals as email_renewals
from services.scheduler.retention import sweep_retention as anonymise_expired
from services.scheduler.worker import app
from shared.outbox import celery_publisher, relay
from shared.settings import get_settings
from shared.tasks import (
    EXPIRE_INVITATIONS,
    EXPIRE_OFFERS,
    FORGET_IDEMPOTENCY_KEYS,
    POLL_REPLIES,
    RELAY_OUTBOX,
    SEND_CALENDARS,
    SEND_REMINDERS,
    SEND_RENEWALS,
    SWEEP_DELIVERIES,
    SWEEP_RETENTION,
    SWEEP_UNAVAILABILITY,
    SendCalendars,
)

publish = celery_publisher(app)


# A few quick retries; past them the outbox relay publishes the event again, since it is not
# marked done until its emails are queued (the task id is the event's id).
@app.task(
    bind=True, name=SEND_CALENDARS, autoretry_for=(Exception,), retry_backoff=True, max_retries=3
)
def send_calendars(self: Task, **payload: object) -> None:
    batch = SendCalendars.model_validate(payload)
    build_and_queue_calendars(batch, publish=publish, event_id=uuid.UUID(self.request.id))


@app.task(name=RELAY_OUTBOX, acks_late=False)
def relay_outbox() -> int:
    settings = get_settings()
    return relay(
        publish,
        grace=timedelta(seconds=settings.outbox_relay_grace_seconds),
        redeliver=timedelta(seconds=settings.delivery_redeliver_seconds),
    )


@app.task(name=SWEEP_DELIVERIES, acks_late=False)
def sweep_deliveries() -> int:
    swept = sweep_message_rows(publish=publish)
    return swept.abandoned + swept.republished


@app.task(name=SWEEP_UNAVAILABILITY, acks_late=False)
def sweep_unavailability() -> int:
    return bring_back_due()


@app.task(name=SEND_REMINDERS, acks_late=False)
def send_reminders() -> int:
    return deadlines.send_reminders(publish=publish)


@app.task(name=EXPIRE_INVITATIONS, acks_late=False)
def expire_invitations() -> int:
    return deadlines.expire_unanswered(publish=publish)


@app.task(name=EXPIRE_OFFERS, acks_late=False)
def expire_offers() -> int:
    return deadlines.expire_offers(publish=publish)


@app.task(name=FORGET_IDEMPOTENCY_KEYS, acks_late=False)
def forget_idempotency_keys() -> int:
    return forget_old_keys()


# Not retried: the next poll (REPLIES_POLL_SECONDS later) reads what this one left.
@app.task(name=POLL_REPLIES, acks_late=False)
def poll_replies() -> int:
    polled = poll_mailbox(publish=publish)
    return polled.handled + polled.ignored


@app.task(name=SEND_RENEWALS, acks_late=False)
def send_renewals() -> int:
    return email_renewals(publish=publish)


@app.task(name=SWEEP_RETENTION, acks_late=False)
def sweep_retention() -> int:
    return anonymise_expired()
