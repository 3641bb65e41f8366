"""The scheduler's Celery app and beat schedule: `celery -A services.scheduler.worker worker`."""

from shared.celery_app import make_celery, prepare_worker_processes
from shared.secret_key import require_secret_key
from shared.settings import get_settings
from shared.tasks import (
    EXPIRE_INVITATIONS,
    EXPIRE_OFFERS,
    FORGET_IDEMPOTENCY_KEYS,
    POLL_REPLIES,
    RELAY_OUTBOX,
    SEND_REMINDERS,
    SEND_RENEWALS,
    SWEEP_DELIVERIES,
    SWEEP_RETENTION,
    SWEEP_UNAVAILABILITY,
)

require_secret_key()  # refuse to start with a default or short SECRET_KEY

app = make_celery("scheduler")
prepare_worker_processes()
app.conf.include = ["services.scheduler.tasks"]
settings = get_settings()
app.conf.beat_schedule = {
    "relay-outbox": {"task": RELAY_OUTBOX, "schedule": settings.outbox_relay_seconds},
    "sweep-unavailability": {
        "task": SWEEP_UNAVAILABILITY,
        "schedule": settings.unavailability_sweep_seconds,
    },
    "send-reminders": {"task": SEND_REMINDERS, "schedule": settings.deadline_sweep_seconds},
    "expire-invitations": {"task": EXPIRE_INVITATIONS, "schedule": settings.deadline_sweep_seconds},
    "expire-offers": {"task": EXPIRE_OFFERS, "schedule": settings.deadline_sweep_seconds},
    "forget-idempotency-keys": {"task": FORGET_IDEMPOTENCY_KEYS, "schedule": 3600},
    "sweep-deliveries": {"task": SWEEP_DELIVERIES, "schedule": settings.delivery_sweep_seconds},
    "send-renewals": {"task": SEND_RENEWALS, "schedule": settings.retention_sweep_seconds},
    "sweep-retention": {"task": SWEEP_RETENTION, "schedule": settings.retention_sweep_seconds},
}
if settings.replies_imap_host:  # answers through the calendar, read from the HR mailbox
    app.conf.beat_schedule["poll-replies"] = {
        "task": POLL_REPLIES,
        "schedule": settings.replies_poll_seconds,
    }
