"""The CV bank (CVthèque): every application received."""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.base import RAISE, Base, StrEnumColumn, Timestamped, utcnow
from shared.models.candidate import Candidate
from shared.models.job import Job
from shared.workflow import ApplicationKind, ApplicationStatus

if TYPE_CHECKING:
    from shared.models.dossier import Dossier
    from shared.models.stored_file import StoredFile


class Application(Timestamped, Base):
    __tablename__ = "applications"
    # The CV bank lists newest first, often filtered by status or kind.
    __table_args__ = (
        Index("ix_applications_created_at", "created_at"),
        Index("ix_applications_status_created_at", "status", "created_at"),
        Index("ix_applications_kind_created_at", "kind", "created_at"),
        Index("ix_applications_job_id_created_at", "job_id", "created_at"),
    )

    kind: Mapped[ApplicationKind] = mapped_column(StrEnumColumn(ApplicationKind, 20), index=True)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    candidate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("candidates.id"), index=True)
    cover_letter: Mapped[str | None] = mapped_column(Text)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[ApplicationStatus] = mapped_column(
        StrEnumColumn(ApplicationStatus, 30), default=ApplicationStatus.SUBMITTED, index=True
    )
    unavailable_until: Mapped[datetime | None] = mapped_column(index=True)
    unavailable_reason: Mapped[str | None] = mapped_column(Text)
    # The status to return to when a temporary unavailability ends.
    status_before_unavailable: Mapped[ApplicationStatus | None] = mapped_column(
        StrEnumColumn(ApplicationStatus, 30)
    )
    cv_file_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("stored_files.id", use_alter=True)
    )
    # Retention (shared/privacy.py): the candidate's last action on it (made, resubmitted, kept
    # through the renewal link), when the renewal email went out, and when it was anonymised.
    candidate_acted_at: Mapped[datetime | None] = mapped_column(default=utcnow, index=True)
    renewal_sent_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None] = mapped_column(index=True)
    proposed_by_application_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("applications.id")
    )

    candidate: Mapped[Candidate] = relationship(lazy=RAISE)
    cv_file: Mapped["StoredFile | None"] = relationship(foreign_keys=[cv_file_id], lazy=RAISE)
    job: Mapped[Job | None] = relationship(lazy=RAISE)
    dossier: Mapped["Dossier | None"] = relationship(back_populates="application", lazy=RAISE)

    @property
    def dossier_id(self) -> uuid.UUID | None:
        """The dossier made when this application was validated, if any."""
        return self.dossier.id if self.dossier is not None else None
