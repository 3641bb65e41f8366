"""Move an application through its state machine and write the step in its history."""

from typing import Any

from sqlalchemy.orm import Session

from shared import history
from shared.models import Application
from shared.workflow import ApplicationStatus, application_transition


def move(
    session: Session,
    application: Application,
    action: str,
    *,
    actor: str,
    event: str,
    **details: Any,
) -> ApplicationStatus:
    """Apply `action` (TransitionRefused if the state forbids it) and record it as `event`, in
    the history of the application and of its dossier if it has one; returns the former status."""
    before = application.status
    application.status = application_transition(before, action)
    record(session, application, before, actor=actor, event=event, **details)
    return before


def record(
    session: Session,
    application: Application,
    before: ApplicationStatus,
    *,
    actor: str,
    event: str,
    **details: Any,
) -> None:
    """The history entry of a change of status from `before` (`move` writes it for a transition;
    the end of an unavailability, which returns to the former status, writes it itself)."""
    history.record(
        session,
        actor=actor,
        action=event,
        application_id=application.id,
        dossier_id=application.dossier_id,
        before={"status": before},
        after={"status": application.status, **details},
    )
