"""Internal notes on an application or a dossier: HR only, never shown to viewers."""

import uuid

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.acted_by import ActedBy
from shared.models.base import Base, Timestamped


class Note(ActedBy, Timestamped, Base):
    __tablename__ = "notes"

    application_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("applications.id"), index=True
    )
    dossier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
