"""Dossiers: one candidate's file for one job, made when HR validates the application."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Numeric, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.application import Application
from shared.models.base import RAISE, Base, StrEnumColumn, Timestamped
from shared.models.candidate import Candidate
from shared.models.job import Job
from shared.workflow import DossierStatus

if TYPE_CHECKING:
    from shared.models.trial import Participation


class Dossier(Timestamped, Base):
    __tablename__ = "dossiers"

    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), unique=True)
    candidate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("candidates.id"), index=True)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id"), index=True)
    status: Mapped[DossierStatus] = mapped_column(
        StrEnumColumn(DossierStatus, 30), default=DossierStatus.OPEN, index=True
    )
    applied_at: Mapped[datetime]
    summary: Mapped[str | None] = mapped_column(Text)
    global_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    global_passed: Mapped[bool | None]
    global_breakdown: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    global_overridden: Mapped[bool] = mapped_column(default=False)
    global_reason: Mapped[str | None] = mapped_column(Text)
    reserve_rank: Mapped[int | None]
    offer_expires_at: Mapped[datetime | None] = mapped_column(index=True)
    started_on: Mapped[date | None]
    left_on: Mapped[date | None]
    left_reason: Mapped[str | None] = mapped_column(Text)
    # A legal hold (a dispute, an appeal) stops every sweep and erasure until HR lifts it.
    legal_hold_reason: Mapped[str | None] = mapped_column(Text)
    legal_hold_since: Mapped[datetime | None]
    # The recruit's dossier, kept for the personnel file when its job's retention ended.
    personnel_file_since: Mapped[datetime | None]

    application: Mapped[Application] = relationship(back_populates="dossier", lazy=RAISE)
    candidate: Mapped[Candidate] = relationship(lazy=RAISE)
    job: Mapped[Job] = relationship(lazy=RAISE)
    participations: Mapped[list["Participation"]] = relationship(
        back_populates="dossier", lazy=RAISE, order_by="Participation.starts_at"
    )
