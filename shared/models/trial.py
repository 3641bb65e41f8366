"""Trials (épreuves) of a job and each dossier's participation (convocation)."""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.base import Base, Timestamped
from shared.models.dossier import Dossier
from shared.models.examiner import TrialExaminer
from shared.models.job import Job


class Trial(Timestamped, Base):
    __tablename__ = "trials"

    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    location: Mapped[str] = mapped_column(String(500), default="")
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int]
    timezone: Mapped[str] = mapped_column(String(64))
    info: Mapped[str] = mapped_column(Text, default="")
    response_deadline: Mapped[datetime | None]
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(1))
    max_score: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal(20))
    pass_score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    eliminatory: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="planned")

    job: Mapped[Job] = relationship(lazy="joined")
    examiner_links: Mapped[list[TrialExaminer]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def examiner_ids(self) -> list[uuid.UUID]:
        """The API keys of the examiners assigned to this trial."""
        return [link.api_key_id for link in self.examiner_links]

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


class Participation(Timestamped, Base):
    __tablename__ = "participations"
    __table_args__ = (UniqueConstraint("trial_id", "dossier_id"),)

    trial_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trials.id"), index=True)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="invited")
    starts_at: Mapped[datetime]
    response_deadline: Mapped[datetime | None]
    sequence: Mapped[int] = mapped_column(default=0)

    trial: Mapped[Trial] = relationship(lazy="joined")
    dossier: Mapped[Dossier] = relationship(back_populates="participations")

    @property
    def calendar_uid(self) -> str:
        """The iCalendar UID: stable for the whole life of the participation."""
        return f"{self.id}@recrue"
