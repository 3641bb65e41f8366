"""The transactional outbox: events written in the same transaction as the change."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, Timestamped


class OutboxEvent(Timestamped, Base):
    __tablename__ = "outbox_events"

    task_name: Mapped[str] = mapped_column(String(200))
    queue: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    # When its effect was committed: by the consumer, for the tasks of TRACKED_TASKS (the relay
    # publishes such an event again until then); at the publish for the others.
    done_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
