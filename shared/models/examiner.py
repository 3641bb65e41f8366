"""Which examiners (people) are assigned to which trials."""

import uuid

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, Timestamped


class TrialExaminer(Timestamped, Base):
    __tablename__ = "trial_examiners"
    __table_args__ = (UniqueConstraint("trial_id", "person_id"),)

    trial_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trials.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    # The SEQUENCE of the examiner's calendar event (UID: the id), raised at each change sent.
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
