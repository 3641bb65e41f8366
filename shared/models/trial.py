"""Trials (épreuves) of a job and each dossier's participation (convocation)."""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.base import RAISE, Base, StrEnumColumn, Timestamped
from shared.models.dossier import Dossier
from shared.models.examiner import TrialExaminer
from shared.models.job import Job
from shared.workflow import ParticipationStatus, TrialStatus


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
    status: Mapped[TrialStatus] = mapped_column(
        StrEnumColumn(TrialStatus, 20), default=TrialStatus.PLANNED
    )
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Slot booking (oral and practical trials): null for a trial at one fixed time.
    slot_minutes: Mapped[int | None]
    slot_capacity: Mapped[int | None]
    booking_windows: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    auto_assign_slots: Mapped[bool] = mapped_column(default=False)
    response_reminder_hours: Mapped[int] = mapped_column(default=48)
    trial_reminder_hours: Mapped[int] = mapped_column(default=24)

    job: Mapped[Job] = relationship(lazy=RAISE)
    examiner_links: Mapped[list[TrialExaminer]] = relationship(
        lazy=RAISE, cascade="all, delete-orphan"
    )

    @property
    def examiner_ids(self) -> list[uuid.UUID]:
        """The people examining this trial."""
        return [link.person_id for link in self.examiner_links]

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def uses_slots(self) -> bool:
        return self.slot_minutes is not None

    @property
    def booking(self) -> dict[str, Any] | None:
        """The booking settings as the API shows them."""
        if self.slot_minutes is None:
            return None
        return {
            "slot_minutes": self.slot_minutes,
            "capacity": self.slot_capacity,
            "windows": self.booking_windows,
            "auto_assign": self.auto_assign_slots,
        }


class Slot(Timestamped, Base):
    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("trial_id", "starts_at"),
        # The database itself refuses an overbooked slot, whatever the code does.
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
    )

    trial_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trials.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int]
    booked: Mapped[int] = mapped_column(default=0)

    trial: Mapped[Trial] = relationship(lazy=RAISE)


class Participation(Timestamped, Base):
    __tablename__ = "participations"
    __table_args__ = (UniqueConstraint("trial_id", "dossier_id"),)

    trial_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trials.id"), index=True)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    status: Mapped[ParticipationStatus] = mapped_column(
        StrEnumColumn(ParticipationStatus, 20), default=ParticipationStatus.INVITED
    )
    # None until a slot is booked, for a slot trial.
    starts_at: Mapped[datetime | None]
    response_deadline: Mapped[datetime | None] = mapped_column(index=True)
    sequence: Mapped[int] = mapped_column(default=0)
    slot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("slots.id"), index=True)
    answered_at: Mapped[datetime | None]
    # The result, recorded after the trial by HR or an assigned examiner.
    present: Mapped[bool | None]
    score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    passed: Mapped[bool | None]
    comment: Mapped[str | None] = mapped_column(Text)
    communicate: Mapped[bool] = mapped_column(default=False)
    result_recorded_at: Mapped[datetime | None]
    result_recorded_by: Mapped[str | None] = mapped_column(String(200))
    result_person_id: Mapped[uuid.UUID | None]
    result_person_name: Mapped[str | None] = mapped_column(String(200))
    result_service: Mapped[str | None] = mapped_column(String(200))

    trial: Mapped[Trial] = relationship(lazy=RAISE)
    dossier: Mapped[Dossier] = relationship(back_populates="participations", lazy=RAISE)
    slot: Mapped[Slot | None] = relationship(lazy=RAISE)

    @property
    def result(self) -> dict[str, Any] | None:
        """The recorded result, as the API shows it (None until recorded)."""
        if self.result_recorded_at is None:
            return None
        return {
            "present": self.present,
            "score": self.score,
            "passed": self.passed,
            "communicate": self.communicate,
            "comment": self.comment,
            "recorded_at": self.result_recorded_at,
            "recorded_by": self.result_recorded_by,
            "recorded_by_person_id": self.result_person_id,
            "recorded_by_person_name": self.result_person_name,
            "recorded_through": self.result_service,
        }

    @property
    def duration(self) -> timedelta:
        """The slot's length for a booked slot, else the trial's duration."""
        if self.slot is not None:
            return self.slot.ends_at - self.slot.starts_at
        return self.trial.duration

    @property
    def calendar_uid(self) -> str:
        """The iCalendar UID: stable for the whole life of the participation."""
        return f"{self.id}@recrue"
