"""Signed links for candidates: one row per link, so it can expire, be used and be revoked."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, StrEnumColumn, Timestamped


class LinkPurpose(StrEnum):
    """What a candidate's link lets them do (its page, and its POST's `action`)."""

    UPDATE_APPLICATION = "update_application"
    APPLY_TO_JOB = "apply_to_job"
    ANSWER_INVITATION = "answer_invitation"
    BOOK_SLOT = "book_slot"
    ANSWER_OFFER = "answer_offer"
    KEEP_PROFILE = "keep_profile"  # the CV bank's renewal: keep the profile or delete it


class CandidateToken(Timestamped, Base):
    __tablename__ = "candidate_tokens"

    purpose: Mapped[LinkPurpose] = mapped_column(StrEnumColumn(LinkPurpose, 30))
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
