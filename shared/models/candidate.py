"""Candidates: the people behind applications."""

import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, Timestamped

# Letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "æ": "ae", "œ": "oe"})


def folded(text: str) -> str:
    """Lower case and without accents, as `?q=` searches compare: "Müller" and "Muller" both
    give "muller", "Weiß" gives "weiss", "Łódź" gives "lodz"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNDECOMPOSED))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def search_text(first_name: str, last_name: str, email: str) -> str:
    """What a candidate is found by: names and email, folded."""
    return folded(f"{first_name} {last_name} {email}")


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
    __table_args__ = (_trigram("search_text"),)

    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    language: Mapped[str] = mapped_column(String(2), default="fr")
    # Kept by the ORM on every insert and update (bulk inserts call `search_text` themselves).
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Set once the person's data was erased (shared/privacy.py): the row stays for the counts.
    anonymised_at: Mapped[datetime | None]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@event.listens_for(Candidate, "before_insert")
@event.listens_for(Candidate, "before_update")
def _fold_for_search(_mapper: Any, _connection: Any, candidate: Candidate) -> None:
    candidate.search_text = search_text(candidate.first_name, candidate.last_name, candidate.email)
