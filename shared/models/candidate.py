"""Candidates: the people behind applications."""

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, Timestamped


def _trigram(column: str) -> Index:
    # Substring search (ILIKE '%q%') on PostgreSQL; a plain index elsewhere.
    return Index(
        f"ix_candidates_{column}_trgm",
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
    )


class Candidate(Timestamped, Base):
    __tablename__ = "candidates"
    __table_args__ = (_trigram("first_name"), _trigram("last_name"), _trigram("email"))

    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    language: Mapped[str] = mapped_column(String(2), default="fr")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"
