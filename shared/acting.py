"""Who acts in a unit of work: the API puts the calling person and service on its session
(`act`), and every row that records a decision or a text (ActedBy: history entries, notes,
messages) is stamped with them when it is written, whichever module writes it. The workers act
as nobody: their rows keep only their `actor` text."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from shared.models.acted_by import ActedBy

_KEY = "recrue_acting"


@dataclass(frozen=True)
class Acting:
    """The person (id, display name) and the service (key name or token client id)."""

    person_id: uuid.UUID | None = None
    person_name: str | None = None
    service: str | None = None

    def columns(self) -> dict[str, Any]:
        """The ActedBy columns of a row written now."""
        return {
            "person_id": self.person_id,
            "person_name": self.person_name,
            "service": self.service,
        }


NOBODY = Acting()


def act(session: Session, acting: Acting) -> None:
    """From now on in this session, rows are written by `acting`."""
    session.info[_KEY] = acting


def acting(session: Session) -> Acting:
    return session.info.get(_KEY, NOBODY)  # type: ignore[no-any-return]


@event.listens_for(Session, "before_flush")
def _stamp(session: Session, _context: object, _instances: object) -> None:
    who = acting(session)
    if who is NOBODY:
        return
    for row in session.new:
        if isinstance(row, ActedBy) and row.person_id is None and row.service is None:
            row.person_id, row.person_name, row.service = (
                who.person_id,
                who.person_name,
                who.service,
            )
