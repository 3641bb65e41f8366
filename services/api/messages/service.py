"""Emails sent to candidates and their delivery state."""

import uuid
from typing import Any

from sqlalchemy import Select, select

from shared.models import Message


def list_messages(
    *, dossier_id: uuid.UUID | None, application_id: uuid.UUID | None, status: str | None
) -> Select[Any]:
    """The query for messages matching the filters, oldest first."""
    query = select(Message).order_by(Message.created_at, Message.id)
    if dossier_id:
        query = query.where(Message.dossier_id == dossier_id)
    if application_id:
        query = query.where(Message.application_id == application_id)
    if status:
        query = query.where(Message.status == status)
    return query
