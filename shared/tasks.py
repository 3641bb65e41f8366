"""Task names, their queues and their payloads: the contracts between the services."""

import uuid

from pydantic import BaseModel

NOTIFICATIONS_QUEUE = "notifications"
SCHEDULING_QUEUE = "scheduling"

SEND_MESSAGE = "notifier.send_message"
SEND_INVITATION = "scheduler.send_invitation"
RELAY_OUTBOX = "scheduler.relay_outbox"
SWEEP_UNAVAILABILITY = "scheduler.sweep_unavailability"

QUEUE_OF_TASK = {
    SEND_MESSAGE: NOTIFICATIONS_QUEUE,
    SEND_INVITATION: SCHEDULING_QUEUE,
    RELAY_OUTBOX: SCHEDULING_QUEUE,
    SWEEP_UNAVAILABILITY: SCHEDULING_QUEUE,
}


class SendMessage(BaseModel):
    """Send the email of one message row (the row carries its idempotency key)."""

    message_id: uuid.UUID


class SendInvitation(BaseModel):
    """Build the calendar invitation of one participation at one SEQUENCE and have it sent."""

    participation_id: uuid.UUID
    sequence: int
