"""A write sent with an Idempotency-Key: reserved in the write's own transaction, then its
answer, so that a repeat gets the first answer instead of doing the write again."""

import uuid

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, Timestamped


class IdempotentRequest(Timestamped, Base):
    __tablename__ = "idempotent_requests"
    __table_args__ = (
        UniqueConstraint("api_key_id", "key"),
        UniqueConstraint("person_id", "key"),
        CheckConstraint("(api_key_id IS NULL) <> (person_id IS NULL)", name="one_caller"),
    )

    # Keys are per caller: an API key, or a person signed in with a token (exactly one of the
    # two). Two front-ends may pick the same key; a person's two front-ends share theirs.
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_keys.id"))
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    key: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the method, path, query and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The answer, recorded right after the commit; None if the process stopped in between.
    status_code: Mapped[int | None]
    headers: Mapped[list[list[str]] | None] = mapped_column(JSON)
    body: Mapped[str | None] = mapped_column(Text)
