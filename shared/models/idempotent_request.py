"""A write sent with an Idempotency-Key: reserved in the write's own transaction, then its
answer, so that a repeat gets the first answer instead of doing the write again."""

import uuid

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, Timestamped

ONE_CALLER = (
    "(CASE WHEN api_key_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN person_id IS NULL THEN 0 ELSE 1"
    " END) + (CASE WHEN service IS NULL THEN 0 ELSE 1 END) = 1"
)


class IdempotentRequest(Timestamped, Base):
    __tablename__ = "idempotent_requests"
    __table_args__ = (
        UniqueConstraint("api_key_id", "key"),
        UniqueConstraint("person_id", "key"),
        UniqueConstraint("service", "key"),
        CheckConstraint(ONE_CALLER, name="one_caller"),
    )

    # Keys are per caller: an API key, a person signed in with a token, or a service signed in
    # with its own token (its client id), exactly one of the three. Two front-ends may pick the
    # same key; a person's two front-ends share theirs, as do a service's successive tokens.
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_keys.id"))
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    service: Mapped[str | None] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the method, path, query and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The answer, recorded right after the commit; None if the process stopped in between.
    status_code: Mapped[int | None]
    headers: Mapped[list[list[str]] | None] = mapped_column(JSON)
    body: Mapped[str | None] = mapped_column(Text)
