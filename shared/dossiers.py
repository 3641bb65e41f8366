"""Move a dossier through its state machine and write the step in its history."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from shared import history, participations
from shared.models import Dossier, Participation, Trial, utcnow
from shared.participations import release, withdraw_event
from shared.workflow import (
    CURRENT_PARTICIPATION_STATES,
    DossierStatus,
    TrialStatus,
    dossier_transition,
)

# A dossier that ends here takes its candidate out of the trials still to come.
_ENDINGS = {
    DossierStatus.REJECTED: "dossier_rejected",
    DossierStatus.WITHDRAWN: "dossier_withdrawn",
    DossierStatus.FAILED: "dossier_failed",
}


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
    ending = _ENDINGS.get(DossierStatus(dossier.status))
    if ending is not None:
        end_participations(session, dossier, ending, actor=actor)


def end_participations(session: Session, dossier: Dossier, ending: str, *, actor: str) -> None:
    """Cancel the dossier's invitations to trials that have not taken place yet: a booked slot
    is released, and an event in the candidate's calendar gets its METHOD:CANCEL."""
    now = utcnow()
    for participation in session.scalars(
        select(Participation)
        .join(Trial, Trial.id == Participation.trial_id)
        .where(
            Participation.dossier_id == dossier.id,
            Participation.status.in_(CURRENT_PARTICIPATION_STATES),
            Participation.result_recorded_at.is_(None),
            Trial.status == TrialStatus.PLANNED,
        )
        .options(contains_eager(Participation.trial))
        .with_for_update(of=Participation)
    ):
        if (participation.starts_at or participation.trial.starts_at) <= now:
            continue  # it took place (or is under way): its result is still to be recorded
        before = participations.move(participation, "cancel")
        release(session=session, participation=participation)
        withdraw_event(session, participation, ending)
        history.record(
            session,
            actor=actor,
            action="participation_cancelled",
            dossier_id=dossier.id,
            before={"status": before},
            after={
                "status": participation.status,
                "participation_id": str(participation.id),
                "reason": ending,
            },
        )
