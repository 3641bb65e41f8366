"""The calendar invitation an examiner gets when assigned to a trial, and its cancellation when
no longer assigned: an email in their language with an iTIP REQUEST (or CANCEL) for the trial's
time, or for a slot trial the span of its slots, listed in the email (their schedule). Each
assignment's event has its own UID (the assignment's id), so that assigned again after a
removal, an examiner gets a new event. A change of the trial that moves their event (time,
place, title, information, slots) sends them the updated REQUEST, a cancelled trial a CANCEL,
each with the assignment's SEQUENCE raised (RFC 5546) so that their calendar applies it. Their
calendar feed (services/api/people/calendar_feed.py) keeps every trial they examine up to date;
these emails are sent on assignment, removal and each change."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
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
    schedule = _schedule(session, trial)
    for link, person in changes.made:
        _invite(session, schedule, link, person)
    for link, person in changes.ended:
        _cancel(session, schedule, link, person, sequence=link.sequence + 1)


def update(session: Session, trial: Trial) -> None:
    """The trial's event changed (time, place, title, slots…): each examiner assigned gets the
    updated invitation, its SEQUENCE raised so that their calendar applies it."""
    schedule = _schedule(session, trial)
    for link, person in _assigned(session, trial):
        link.sequence += 1
        _invite(session, schedule, link, person)


def cancel(session: Session, trial: Trial) -> None:
    """The trial is cancelled: each examiner assigned gets the cancellation of their event."""
    schedule = _schedule(session, trial)
    for link, person in _assigned(session, trial):
        link.sequence += 1
        _cancel(session, schedule, link, person, sequence=link.sequence)


def event_of(session: Session, trial: Trial) -> tuple[Any, ...]:
    """What the examiners' event shows of the trial, to tell whether a change moved it."""
    schedule = _schedule(session, trial)
    return (trial.title, trial.info, trial.location, schedule.starts, schedule.ends)


@dataclass(frozen=True)
class _Schedule:
    """The trial as its examiners' event shows it: its span (of its slots, if any)."""

    trial: Trial
    job: Job
    slots: Sequence[Slot]
    starts: datetime
    ends: datetime


def _schedule(session: Session, trial: Trial) -> _Schedule:
    slots = session.scalars(
        select(Slot).where(Slot.trial_id == trial.id).order_by(Slot.starts_at)
    ).all()
    job = session.get(Job, trial.job_id)
    assert job is not None
    return _Schedule(
        trial=trial,
        job=job,
        slots=slots,
        starts=slots[0].starts_at if slots else trial.starts_at,
        ends=slots[-1].ends_at if slots else trial.starts_at + trial.duration,
    )


def _assigned(session: Session, trial: Trial) -> list[Assignment]:
    links = trial.examiner_links
    found = session.scalars(select(Person).where(Person.id.in_([link.person_id for link in links])))
    people = {person.id: person for person in found}
    return [(link, people[link.person_id]) for link in links]


def _context(schedule: _Schedule) -> dict[str, Any]:
    trial = schedule.trial
    return {
        "job_title": schedule.job.title,
        "trial_title": trial.title,
        "starts_at": schedule.starts.astimezone(ZoneInfo(trial.timezone)).isoformat(),
        "timezone": trial.timezone,
        "calendar_attached": True,
    }


def _invite(session: Session, schedule: _Schedule, link: TrialExaminer, person: Person) -> None:
    trial, zone = schedule.trial, ZoneInfo(schedule.trial.timezone)
    invitation = {
        **_context(schedule),
        "duration_minutes": int((schedule.ends - schedule.starts).total_seconds() // 60),
        "location": trial.location,
        "info": trial.info,
        "slots": [slot.starts_at.astimezone(zone).isoformat() for slot in schedule.slots],
    }
    event = _event(schedule, link, person, sequence=link.sequence)
    _queue(session, "examiner_invitation", "REQUEST", link, person, invitation, event)


def _cancel(
    session: Session, schedule: _Schedule, link: TrialExaminer, person: Person, *, sequence: int
) -> None:
    event = _event(schedule, link, person, sequence=sequence)
    _queue(session, "examiner_unassigned", "CANCEL", link, person, _context(schedule), event)


def _event(
    schedule: _Schedule, link: TrialExaminer, person: Person, *, sequence: int
) -> TrialEvent:
    trial, starts, ends = schedule.trial, schedule.starts, schedule.ends
    organizer_name, organizer_email = get_settings().sender
    return TrialEvent(
        uid=f"{link.id}@recrue-examiner",
        sequence=sequence,
        summary=f"{trial.title} – {schedule.job.title}",
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
    event: TrialEvent,
) -> None:
    ics = build_request(event) if method == "REQUEST" else build_cancel(event)
    queue_to_person(
        session,
        kind=kind,
        idempotency_key=f"{kind}:{link.id}:{event.sequence}",  # once per version of the event
        person=person,
        context=context,
        calendar_method=method,
        calendar_ics=ics.decode(),
    )
