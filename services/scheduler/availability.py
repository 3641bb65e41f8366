"""The sweep that makes applications available again once their unavailability date passed."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shared.availability import end_unavailability
from shared.db import session_scope
from shared.models import Application, utcnow
from shared.workflow import ApplicationStatus

ACTOR = "scheduler"
BATCH = 500


def sweep_unavailability() -> int:
    """Bring back every application whose `unavailable_until` has passed; returns how many.

    Idempotent and safe with two beats: rows are locked and skipped by a concurrent sweep, and
    an application already back is no longer matched.
    """
    with session_scope() as session:
        due = session.scalars(
            select(Application)
            .where(
                Application.status == ApplicationStatus.UNAVAILABLE,
                Application.unavailable_until.is_not(None),
                Application.unavailable_until <= utcnow(),
            )
            .options(selectinload(Application.dossier))
            .order_by(Application.unavailable_until)
            .limit(BATCH)
            .with_for_update(skip_locked=True, of=Application)
        ).all()
        for application in due:
            end_unavailability(session=session, application=application, actor=ACTOR)
        return len(due)
