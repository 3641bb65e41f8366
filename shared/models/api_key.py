"""API keys: only a hash of the key is stored. A key belongs to a person (`person_id`: it acts
as that person, as migrated examiner keys do), or serves a service, which may act for people
(`acts_for_people`: with `On-Behalf-Of: <email>`)."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, Timestamped


class ApiKey(Timestamped, Base):
    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime | None]
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"), index=True)
    acts_for_people: Mapped[bool] = mapped_column(default=False)
