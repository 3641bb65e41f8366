"""Signed links for candidates: one row per link, so it can expire, be used and be revoked."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, Timestamped


class CandidateToken(Timestamped, Base):
    __tablename__ = "candidate_tokens"

    purpose: Mapped[str] = mapped_column(String(30))
    candidate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("candidates.id"), index=True)
    application_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("applications.id"), index=True
    )
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id"))
    participation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("participations.id"), index=True
    )
    # What HR wrote to the candidate with this link, shown on its page.
    message: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # What the link's POST produced (e.g. the application made from a job proposal).
    result_application_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("applications.id"))
