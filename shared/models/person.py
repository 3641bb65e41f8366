"""People: HR agents, examiners and viewers, who sign in through the identity provider (or act
through a key that acts for people). The email is stored lower-cased: unique whatever its case."""

from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from shared.models.base import Base, Timestamped


class Person(Timestamped, Base):
    __tablename__ = "people"

    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(2), default="fr")  # of their emails
    # The personal calendar feed: only a hash of its token is stored; None: no feed.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    @property
    def calendar_feed(self) -> bool:
        return self.calendar_token_hash is not None

    @validates("email")
    def _lower(self, _key: str, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value
