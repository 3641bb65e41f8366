"""Emails: one row per message, with its idempotency key and delivery state."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.acted_by import ActedBy
from shared.models.base import Base, StrEnumColumn, Timestamped, utcnow


class MessageStatus(StrEnum):
    QUEUED = "queued"  # waiting for its first send
    SENDING = "sending"  # a worker holds its lease
    SENT = "sent"
    RETRYING = "retrying"  # a temporary failure: waiting for the next attempt
    FAILED = "failed"  # refused for good
    UNKNOWN = "unknown"  # the send was abandoned: it may or may not have left


class Message(ActedBy, Timestamped, Base):
    __tablename__ = "messages"

    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    language: Mapped[str] = mapped_column(String(2))
    candidate_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("candidates.id"))
    dossier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    application_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("applications.id"))
    to_address: Mapped[str] = mapped_column(String(320))
    to_name: Mapped[str] = mapped_column(String(400), default="")
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    calendar_method: Mapped[str | None] = mapped_column(String(10))
    calendar_ics: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[MessageStatus] = mapped_column(
        StrEnumColumn(MessageStatus, 20), default=MessageStatus.QUEUED, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_response: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    # The database, not the broker, says what remains to do: a waiting row (`queued`,
    # `retrying`) is due at `next_attempt_at`, and beat publishes it again if no task took it
    # in time; a `sending` row whose lease expired was abandoned by its worker.
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow, index=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(index=True)
