"""The append-only history of everything that happens to applications and dossiers."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.acted_by import ActedBy
from shared.models.base import Base, utcnow


class HistoryEntry(ActedBy, Base):
    __tablename__ = "history_entries"

    # An integer key keeps the insertion order, which is the order of the story.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    application_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("applications.id"), index=True
    )
    dossier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
