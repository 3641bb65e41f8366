"""Job offers (emploi / poste) and their campaign."""

from datetime import date, datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, StrEnumColumn, Timestamped
from shared.workflow import JobStatus


class Job(Timestamped, Base):
    __tablename__ = "jobs"

    title: Mapped[str] = mapped_column(String(300))
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    department: Mapped[str | None] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(index=True)
    campaign: Mapped[str | None] = mapped_column(String(100), index=True)
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    status: Mapped[JobStatus] = mapped_column(StrEnumColumn(JobStatus, 20), default=JobStatus.OPEN)
    # When it was closed: its dossiers' retention runs from then.
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    # The board's decision, and whether its reserve ran out.
    deliberation_decided_on: Mapped[date | None]
    deliberation_reference: Mapped[str | None] = mapped_column(String(100))
    reserve_exhausted: Mapped[bool] = mapped_column(default=False)
