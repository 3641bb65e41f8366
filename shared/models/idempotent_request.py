"""A write sent with an Idempotency-Key: reserved in the write's own transaction, then its
answer, so that a repeat gets the first answer instead of doing the write again."""

import uuid

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, Timestamped


class IdempotentRequest(Timestamped, Base):
    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    # Keys are per API key: two front-ends may pick the same one.
    api_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id"))
    key: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the method, path, query and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The answer, recorded right after the commit; None if the process stopped in between.
    status_code: Mapped[int | None]
    headers: Mapped[list[list[str]] | None] = mapped_column(JSON)
    body: Mapped[str | None] = mapped_column(Text)
