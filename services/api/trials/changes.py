"""What changes a trial's calendar: postponements, slot moves and cancellations.

Every change raises the participation's SEQUENCE (the UID never changes) and writes the outbox
event that makes the scheduler send the updated calendar: REQUEST for an update, CANCEL for a
cancellation. The examiners assigned hear of each change that moves their event, by email
(services/api/trials/examiner_invitations.py).
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api.errors import Conflict, Invalid
from services.api.trials import examiner_invitations
from services.api.trials.schemas import TrialUpdate
from services.api.trials.service import get_participation, get_trial
from shared import history
from shared.models import Participation, Slot, Trial
from shared.participations import announce, book, move, release
from shared.workflow import CURRENT_PARTICIPATION_STATES, ParticipationStatus, TrialStatus

P = ParticipationStatus
# Participations whose calendar the candidate still holds: they hear of every change.


def _active(session: Session, trial: Trial) -> list[Participation]:
    return list(
        session.scalars(
            select(Participation)
            .where(
                Participation.trial_id == trial.id,
                Participation.status.in_(CURRENT_PARTICIPATION_STATES),
            )
            .order_by(Participation.created_at, Participation.id)
            .with_for_update(of=Participation)
        )
    )


def _require_planned(trial: Trial) -> None:
    if trial.status != TrialStatus.PLANNED:
        raise Conflict(f"trial is {trial.status}", state=trial.status)


def postpone_trial(
    *, session: Session, trial_id: uuid.UUID, starts_at: datetime, reason: str | None, actor: str
) -> Trial:
    """Move the whole trial (and its slots) to a new start; every participant and examiner gets
    an update."""
    trial = get_trial(session=session, trial_id=trial_id, for_update=True)
    _require_planned(trial)
    shift = starts_at - trial.starts_at
    if not shift:
        raise Invalid("the trial already starts then", field="starts_at")
    if trial.response_deadline and trial.response_deadline >= starts_at:
        raise Invalid("the new start is before the answer deadline", field="starts_at")
    previous_start = trial.starts_at
    trial.starts_at = starts_at
    for slot in session.scalars(select(Slot).where(Slot.trial_id == trial.id)):
        slot.starts_at += shift
        slot.ends_at += shift
    session.flush()
    moved = []
    for participation in _active(session, trial):
        if participation.starts_at is None:
            continue  # a slot not booked yet: the booking page shows the new slots
        previous = participation.starts_at
        participation.starts_at = previous + shift
        announce(session, participation, "update", previous_starts_at=previous, reason=reason)
        moved.append(_entry(participation, previous, reason))
    history.record_many(session, actor=actor, action="participation_postponed", entries=moved)
    change = {"from": previous_start.isoformat(), "to": starts_at.isoformat()}
    history.record_many(
        session,
        actor=actor,
        action="trial_postponed",
        entries=(
            {
                "dossier_id": dossier_id,
                "after": {**change, "trial_id": str(trial.id), "reason": reason},
            }
            for dossier_id in _dossiers(session, trial)
        ),
    )
    examiner_invitations.update(session, trial)
    session.flush()
    return trial


def _dossiers(session: Session, trial: Trial) -> list[uuid.UUID]:
    return list(
        session.scalars(select(Participation.dossier_id).where(Participation.trial_id == trial.id))
    )


def _entry(
    participation: Participation, previous: datetime | None, reason: str | None
) -> dict[str, Any]:
    """The history entry of a participation moved from `previous` to its current time."""
    return {
        "dossier_id": participation.dossier_id,
        "before": {"starts_at": previous.isoformat() if previous else None},
        "after": {
            "participation_id": str(participation.id),
            "starts_at": participation.starts_at.isoformat() if participation.starts_at else None,
            "sequence": participation.sequence,
            "reason": reason,
        },
    }


def _record(
    session: Session,
    participation: Participation,
    action: str,
    previous: datetime | None,
    actor: str,
    reason: str | None,
) -> None:
    history.record(session, actor=actor, action=action, **_entry(participation, previous, reason))


def postpone_participation(
    *,
    session: Session,
    participation_id: uuid.UUID,
    starts_at: datetime | None,
    slot_id: uuid.UUID | None,
    reason: str | None,
    actor: str,
) -> Participation:
    """Move one candidate to a new time (fixed-time trial) or another slot; only they hear of it."""
    participation = get_participation(session=session, participation_id=participation_id)
    _require_planned(participation.trial)
    if participation.status not in CURRENT_PARTICIPATION_STATES:
        raise Conflict(f"participation is {participation.status}", state=participation.status)
    previous = participation.starts_at
    if slot_id is not None:
        if not participation.trial.uses_slots:
            raise Invalid("this trial has no slots: give starts_at", field="slot_id")
        book(session=session, participation=participation, slot_id=slot_id)
    else:
        if participation.trial.uses_slots:
            raise Invalid("this trial books slots: give slot_id", field="starts_at")
        assert starts_at is not None
        if starts_at == previous:
            raise Invalid("the candidate already has that time", field="starts_at")
        participation.starts_at = starts_at
    announce(session, participation, "update", previous_starts_at=previous, reason=reason)
    _record(session, participation, "participation_postponed", previous, actor, reason)
    session.flush()
    return participation


def cancel_trial(*, session: Session, trial_id: uuid.UUID, reason: str | None, actor: str) -> Trial:
    """Cancel the trial: everyone invited, and every examiner, gets METHOD:CANCEL."""
    trial = get_trial(session=session, trial_id=trial_id, for_update=True)
    _require_planned(trial)
    trial.status = TrialStatus.CANCELLED
    trial.cancel_reason = reason
    for participation in _active(session, trial):
        _cancel(session, participation, reason, actor)
    examiner_invitations.cancel(session, trial)
    session.flush()
    return trial


def cancel_participation(
    *, session: Session, participation_id: uuid.UUID, reason: str | None, actor: str
) -> Participation:
    """Cancel one candidate's participation: they get METHOD:CANCEL."""
    participation = get_participation(session=session, participation_id=participation_id)
    if participation.status not in CURRENT_PARTICIPATION_STATES:
        raise Conflict(f"participation is {participation.status}", state=participation.status)
    _cancel(session, participation, reason, actor)
    session.flush()
    return participation


def _cancel(session: Session, participation: Participation, reason: str | None, actor: str) -> None:
    move(participation, "cancel")
    release(session=session, participation=participation)
    announce(session, participation, "cancel", reason=reason)
    _record(
        session, participation, "participation_cancelled", participation.starts_at, actor, reason
    )


def update_trial(*, session: Session, trial_id: uuid.UUID, data: TrialUpdate, actor: str) -> Trial:
    """Change what candidates were told; each current invitation gets an update (SEQUENCE+1),
    and so does each examiner's, if their event changed."""
    trial = get_trial(session=session, trial_id=trial_id, for_update=True)
    if trial.status != TrialStatus.PLANNED:
        raise Conflict(f"trial is {trial.status}", state=trial.status)
    fields = data.model_dump(exclude_unset=True, exclude={"reason"})
    before = {field: getattr(trial, field) for field in fields}
    event = examiner_invitations.event_of(session, trial)
    for field, value in fields.items():
        setattr(trial, field, value)
    changed = {f for f in fields if before[f] != getattr(trial, f)}
    if not changed:
        return trial
    if examiner_invitations.event_of(session, trial) != event:  # not a slot trial's duration
        examiner_invitations.update(session, trial)
    for participation in session.scalars(
        select(Participation)
        .where(
            Participation.trial_id == trial.id,
            Participation.status.in_(CURRENT_PARTICIPATION_STATES),
        )
        .with_for_update(of=Participation)
    ):
        if participation.starts_at is not None:  # its time stays: say what changed
            announce(session, participation, "change", reason=data.reason, changed=sorted(changed))
        history.record(
            session,
            actor=actor,
            action="trial_changed",
            dossier_id=participation.dossier_id,
            before={f: before[f] for f in sorted(changed)},
            after={f: getattr(trial, f) for f in sorted(changed)},
        )
    session.flush()
    return trial
