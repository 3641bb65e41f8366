"""Task names, their queues and their payloads: the contracts between the services."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

NOTIFICATIONS_QUEUE = "notifications"
SCHEDULING_QUEUE = "scheduling"

SEND_MESSAGE = "notifier.send_message"
SEND_INVITATION = "scheduler.send_invitation"
RELAY_OUTBOX = "scheduler.relay_outbox"
SWEEP_UNAVAILABILITY = "scheduler.sweep_unavailability"
SEND_REMINDERS = "scheduler.send_reminders"
EXPIRE_INVITATIONS = "scheduler.expire_invitations"
EXPIRE_OFFERS = "scheduler.expire_offers"

QUEUE_OF_TASK = {
    SEND_MESSAGE: NOTIFICATIONS_QUEUE,
    SEND_INVITATION: SCHEDULING_QUEUE,
    RELAY_OUTBOX: SCHEDULING_QUEUE,
    SWEEP_UNAVAILABILITY: SCHEDULING_QUEUE,
    SEND_REMINDERS: SCHEDULING_QUEUE,
    EXPIRE_INVITATIONS: SCHEDULING_QUEUE,
    EXPIRE_OFFERS: SCHEDULING_QUEUE,
}


class SendMessage(BaseModel):
    """Send the email of one message row (the row carries its idempotency key)."""

    message_id: uuid.UUID


CalendarPurpose = Literal["invite", "confirm_booking", "update", "cancel"]


class SendInvitation(BaseModel):
    """Build the calendar of one participation at one SEQUENCE and email it.

    `invite`: the first invitation (or the booking link of a slot trial); `confirm_booking`: a
    booked slot; `update`: a postponement or another change (`previous_starts_at` says from
    when); `cancel`: METHOD:CANCEL.
    """

    participation_id: uuid.UUID
    sequence: int
    purpose: CalendarPurpose = "invite"
    previous_starts_at: datetime | None = None
    reason: str | None = None
