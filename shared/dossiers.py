"""Move a dossier through its state machine and write the step in its history."""

from typing import Any

from sqlalchemy.orm import Session

from shared import history
from shared.models import Dossier
from shared.workflow import dossier_transition


def move(
    session: Session, dossier: Dossier, action: str, *, actor: str, event: str, **details: Any
) -> None:
    """Apply `action` (TransitionRefused if the state forbids it) and record it as `event`."""
    before = dossier.status
    dossier.status = dossier_transition(before, action)
    history.record(
        session,
        actor=actor,
        action=event,
        dossier_id=dossier.id,
        before={"status": before},
        after={"status": dossier.status, **details},
    )
