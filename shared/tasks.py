"""Task names, their queues and their payloads: the contracts between the services."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

NOTIFICATIONS_QUEUE = "notifications"
SCHEDULING_QUEUE = "scheduling"

SEND_MESSAGES = "notifier.send_messages"
SEND_CALENDARS = "scheduler.send_calendars"
RELAY_OUTBOX = "scheduler.relay_outbox"
SWEEP_UNAVAILABILITY = "scheduler.sweep_unavailability"
SEND_REMINDERS = "scheduler.send_reminders"
EXPIRE_INVITATIONS = "scheduler.expire_invitations"
EXPIRE_OFFERS = "scheduler.expire_offers"
FORGET_IDEMPOTENCY_KEYS = "scheduler.forget_idempotency_keys"
SWEEP_DELIVERIES = "scheduler.sweep_deliveries"
POLL_REPLIES = "scheduler.poll_replies"
SEND_RENEWALS = "scheduler.send_renewals"
SWEEP_RETENTION = "scheduler.sweep_retention"

QUEUE_OF_TASK = {
    SEND_MESSAGES: NOTIFICATIONS_QUEUE,
    SEND_CALENDARS: SCHEDULING_QUEUE,
    RELAY_OUTBOX: SCHEDULING_QUEUE,
    SWEEP_UNAVAILABILITY: SCHEDULING_QUEUE,
    SEND_REMINDERS: SCHEDULING_QUEUE,
    EXPIRE_INVITATIONS: SCHEDULING_QUEUE,
    EXPIRE_OFFERS: SCHEDULING_QUEUE,
    FORGET_IDEMPOTENCY_KEYS: SCHEDULING_QUEUE,
    SWEEP_DELIVERIES: SCHEDULING_QUEUE,
    POLL_REPLIES: SCHEDULING_QUEUE,
    SEND_RENEWALS: SCHEDULING_QUEUE,
    SWEEP_RETENTION: SCHEDULING_QUEUE,
}

# Events whose consumer records, in the transaction of its effect, that the event is done: the
# outbox relay publishes them again until it has. (An email's event is done once published:
# its message row says what remains to do, and the delivery sweep acts on it.)
TRACKED_TASKS = frozenset({SEND_CALENDARS})


# A bulk action (2,000 invitations) becomes blocks of this many items per task: few broker
# round trips and transactions, yet enough tasks to keep every worker process busy.
MESSAGES_PER_TASK = 25
CALENDARS_PER_TASK = 50


class SendMessages(BaseModel):
    """Send the emails of these message rows (each row carries its idempotency key)."""

    items: list[uuid.UUID]


CalendarPurpose = Literal["invite", "confirm_booking", "update", "change", "cancel", "expire"]


class CalendarChange(BaseModel):
    """The calendar of one participation at one SEQUENCE, to build and email.

    `invite`: the first invitation (or the booking link of a slot trial); `confirm_booking`: a
    booked slot; `update`: a postponement (`previous_starts_at` says from when); `change`: the
    trial's details changed, not its time (`changed` names the fields); `cancel`:
    METHOD:CANCEL (`ending` says why, when HR did not cancel it); `expire`: the invitation
    expired unanswered at its deadline (the `invitation_expired` email, with METHOD:CANCEL if
    the candidate has the event in their calendar).
    """

    participation_id: uuid.UUID
    sequence: int
    purpose: CalendarPurpose = "invite"
    previous_starts_at: datetime | None = None
    reason: str | None = None
    changed: list[str] | None = None
    # `cancel` of a participation that ended otherwise than by HR's cancellation: `declined`,
    # `dossier_rejected`, `dossier_withdrawn` or `dossier_failed` (the email says which).
    ending: str | None = None


class SendCalendars(BaseModel):
    """Build and email these calendar changes."""

    items: list[CalendarChange]
