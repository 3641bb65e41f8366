"""How many emails were read as calendar answers, by outcome: written by whichever process
read them (the scheduler's IMAP poll, `recrue ingest-mail`), exported by the API's /metrics."""

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base


class CalendarReplyCount(Base):
    __tablename__ = "calendar_reply_counts"

    outcome: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
