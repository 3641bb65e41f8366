"""Who acted, on the rows that record a decision or a text: the person (id and display name)
and, separately, the service that carried the request (an API key's name or a token's client
id). Both stay empty on the rows written before people existed, and on those the workers
write; the row's `actor` text says who it was then."""

import uuid

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column


class ActedBy:
    person_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    person_name: Mapped[str | None] = mapped_column(String(200))
    service: Mapped[str | None] = mapped_column(String(200))
