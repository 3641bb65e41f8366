"""The CV bank (CVthèque): every application received."""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.base import Base, Timestamped
from shared.models.candidate import Candidate
from shared.models.job import Job

if TYPE_CHECKING:
    from shared.models.dossier import Dossier


class Application(Timestamped, Base):
    __tablename__ = "applications"

    kind: Mapped[str] = mapped_column(String(20), index=True)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    candidate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("candidates.id"), index=True)
    cover_letter: Mapped[str | None] = mapped_column(Text)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(30), default="submitted", index=True)
    unavailable_until: Mapped[datetime | None]

    candidate: Mapped[Candidate] = relationship(lazy="joined")
    job: Mapped[Job | None] = relationship(lazy="joined")
    dossier: Mapped["Dossier | None"] = relationship(back_populates="application", lazy="selectin")

    @property
    def dossier_id(self) -> uuid.UUID | None:
        """The dossier made when this application was validated, if any."""
        return self.dossier.id if self.dossier is not None else None
