"""A candidate's answer to a trial invitation, whichever way it came: the link's page (the api)
or a calendar's iTIP REPLY (the scheduler, `recrue ingest-mail`). One set of rules: the
deadline, the states that may still answer, once."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shared import history
from shared.models import Participation, utcnow
from shared.participations import move, release, withdraw_event
from shared.workflow import ParticipationStatus, TrialStatus

P = ParticipationStatus


class Answer(enum.StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"


class Result(enum.StrEnum):
    APPLIED = "applied"  # the participation changed
    UNCHANGED = "unchanged"  # it already says so: a repeated answer
    LATE = "late"  # past the answer deadline
    REFUSED = "refused"  # the participation's or the trial's state forbids it


def answers_until(participation: Participation) -> datetime:
    """Until when the candidate may answer or change: the answer deadline, or the trial."""
    return participation.response_deadline or participation.trial.starts_at


def check(participation: Participation, answer: Answer, *, now: datetime | None = None) -> Result:
    """What `answer` would do now, without doing it.

    A fixed-time invitation is answered once, while `invited`. A booked slot (a slot trial's
    participation that is `accepted`) may still be given up until the deadline, as its link lets
    the candidate change it: a decline then releases the slot.
    """
    status = P(participation.status)
    wanted = P.ACCEPTED if answer is Answer.ACCEPT else P.DECLINED
    if status == wanted:
        return Result.UNCHANGED
    if participation.trial.status != TrialStatus.PLANNED:
        return Result.REFUSED
    may_change = status == P.INVITED or (
        status == P.ACCEPTED
        and wanted == P.DECLINED
        and participation.trial.uses_slots
        and participation.slot_id is not None
    )
    if not may_change:
        return Result.REFUSED
    if (now or utcnow()) > answers_until(participation):
        return Result.LATE
    if status == P.INVITED and wanted == P.ACCEPTED and participation.starts_at is None:
        return Result.REFUSED  # a slot trial is accepted by booking a slot, not by a yes
    return Result.APPLIED


def apply(
    session: Session,
    participation: Participation,
    answer: Answer,
    *,
    actor: str,
    details: dict[str, Any] | None = None,
) -> Result:
    """Apply the answer if `check` allows it, with its history entry (`invitation_accepted` or
    `invitation_declined`; `details` are added to what the entry records). The caller holds
    the participation's row lock."""
    result = check(participation, answer)
    if result is not Result.APPLIED:
        return result
    before = move(participation, "accept" if answer is Answer.ACCEPT else "decline")
    if answer is Answer.DECLINE:
        release(session=session, participation=participation)
    participation.answered_at = utcnow()
    if answer is Answer.DECLINE:  # no declined event stays in their calendar
        withdraw_event(session, participation, "declined")
    history.record(
        session,
        actor=actor,
        action=f"invitation_{participation.status}",
        dossier_id=participation.dossier_id,
        before={"status": before},
        after={
            "status": participation.status,
            "participation_id": str(participation.id),
            **(details or {}),
        },
    )
    return result
