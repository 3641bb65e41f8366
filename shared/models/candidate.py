"""Candidates: the people behind applications."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, Timestamped


class Candidate(Timestamped, Base):
    __tablename__ = "candidates"

    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    language: Mapped[str] = mapped_column(String(2), default="fr")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"
