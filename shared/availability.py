"""Temporary unavailability of an application: ended by HR or by the scheduler's sweep."""

from sqlalchemy.orm import Session

from shared import applications
from shared.models import Application
from shared.workflow import ApplicationStatus


def end_unavailability(*, session: Session, application: Application, actor: str) -> None:
    """Put an unavailable application back in its former status (HR or the scheduler's sweep)."""
    application.status = application.status_before_unavailable or ApplicationStatus.SUBMITTED
    application.status_before_unavailable = None
    application.unavailable_until = None
    application.unavailable_reason = None
    session.flush()
    applications.record(
        session, application, ApplicationStatus.UNAVAILABLE, actor=actor, event="marked_available"
    )
