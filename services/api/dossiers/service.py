"""Dossiers: one candidate's file for one job."""

import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.api.errors import NotFound
from shared.models import Dossier, HistoryEntry


def get_dossier(*, session: Session, dossier_id: uuid.UUID) -> Dossier:
    """The dossier, or NotFound."""
    dossier = session.get(Dossier, dossier_id)
    if dossier is None:
        raise NotFound(f"dossier {dossier_id} not found")
    return dossier


def dossier_history(*, session: Session, dossier_id: uuid.UUID) -> Sequence[HistoryEntry]:
    """The dossier's timeline, from the application it came from, in order."""
    dossier = get_dossier(session=session, dossier_id=dossier_id)
    return session.scalars(
        select(HistoryEntry)
        .where(
            or_(
                HistoryEntry.dossier_id == dossier.id,
                HistoryEntry.application_id == dossier.application_id,
            )
        )
        .order_by(HistoryEntry.id)
    ).all()
