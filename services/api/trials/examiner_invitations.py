"""The calendar invitation an examiner gets when assigned to a trial, and its cancellation when
no longer assigned: an email in their language with an iTIP REQUEST (or CANCEL) for the trial's
time, or for a slot trial the span of its slots, listed in the email (their schedule). Each
assignment's event has its own UID (the assignment's id), so that assigned again after a
removal, an examiner gets a new event. Their calendar feed (services/api/people/calendar_feed.py)
keeps every trial they examine up to date; these emails are sent on assignment and removal."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.calendar import TrialEvent, build_cancel, build_request
from shared.messages import queue_to_person
from shared.models import Job, Person, Slot, Trial, TrialExaminer, utcnow
from shared.settings import get_settings

Assignment = tuple[TrialExaminer, Person]


@dataclass(frozen=True)
class Changes:
    """The assignments a change of a trial's examiners made, and those it ended."""

    made: Sequence[Assignment]
    ended: Sequence[Assignment]


def send(session: Session, trial: Trial, changes: Changes) -> None:
    """Queue the invitations of the assignments made and the cancellations of those ended
    (the trial flushed: it has its id and slots)."""
    if not changes.made and not changes.ended:
        return
    schedule = session.scalars(
        select(Slot).where(Slot.trial_id == trial.id).order_by(Slot.starts_at)
    ).all()
    starts = schedule[0].starts_at if schedule else trial.starts_at
    ends = schedule[-1].ends_at if schedule else trial.starts_at + trial.duration
    zone = ZoneInfo(trial.timezone)
    job = session.get(Job, trial.job_id)
    assert job is not None
    context = {
        "job_title": job.title,
        "trial_title": trial.title,
        "starts_at": starts.astimezone(zone).isoformat(),
        "timezone": trial.timezone,
        "calendar_attached": True,
    }
    invitation = {
        **context,
        "duration_minutes": int((ends - starts).total_seconds() // 60),
        "location": trial.location,
        "info": trial.info,
        "slots": [slot.starts_at.astimezone(zone).isoformat() for slot in schedule],
    }
    for link, person in changes.made:
        event = _event(trial, job, link, person, starts, ends, sequence=0)
        ics = build_request(event)
        _queue(session, "examiner_invitation", "REQUEST", link, person, invitation, ics)
    for link, person in changes.ended:
        event = _event(trial, job, link, person, starts, ends, sequence=1)
        ics = build_cancel(event)
        _queue(session, "examiner_unassigned", "CANCEL", link, person, context, ics)


def _event(
    trial: Trial,
    job: Job,
    link: TrialExaminer,
    person: Person,
    starts: datetime,
    ends: datetime,
    *,
    sequence: int,
) -> TrialEvent:
    organizer_name, organizer_email = parseaddr(get_settings().mail_from)
    return TrialEvent(
        uid=f"{link.id}@recrue-examiner",
        sequence=sequence,
        summary=f"{trial.title} – {job.title}",
        description=trial.info,
        location=trial.location,
        starts_at=starts,
        duration=ends - starts,
        timezone=trial.timezone,
        organizer_email=organizer_email,
        organizer_name=organizer_name or "Recrue",
        attendee_email=person.email,
        attendee_name=person.name,
        stamp=utcnow(),
    )


def _queue(
    session: Session,
    kind: str,
    method: str,
    link: TrialExaminer,
    person: Person,
    context: dict[str, Any],
    ics: bytes,
) -> None:
    queue_to_person(
        session,
        kind=kind,
        idempotency_key=f"{kind}:{link.id}",  # once per assignment
        person=person,
        context=context,
        calendar_method=method,
        calendar_ics=ics.decode(),
    )
