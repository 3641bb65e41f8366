"""The scheduler's tasks: validate the payload, call a function, let the retry policy act."""

from datetime import timedelta

from services.scheduler import deadlines
from services.scheduler.availability import sweep_unavailability as bring_back_due
from services.scheduler.housekeeping import forget_idempotency_keys as forget_old_keys
from services.scheduler.invitations import send_calendars as build_and_queue_calendars
from services.scheduler.worker import app
from shared.outbox import celery_publisher, relay
from shared.settings import get_settings
from shared.tasks import (
    EXPIRE_INVITATIONS,
    EXPIRE_OFFERS,
    FORGET_IDEMPOTENCY_KEYS,
    RELAY_OUTBOX,
    SEND_CALENDARS,
    SEND_REMINDERS,
    SWEEP_UNAVAILABILITY,
    SendCalendars,
)

publish = celery_publisher(app)


@app.task(name=SEND_CALENDARS, autoretry_for=(Exception,), retry_backoff=True, max_retries=10)
def send_calendars(**payload: object) -> None:
    build_and_queue_calendars(SendCalendars.model_validate(payload), publish=publish)


@app.task(name=RELAY_OUTBOX, acks_late=False)
def relay_outbox() -> int:
    grace = timedelta(seconds=get_settings().outbox_relay_grace_seconds)
    return relay(publish, grace=grace)


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
