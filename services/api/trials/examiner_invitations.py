"""The calendar invitation an examiner gets when assigned to a trial: an email in their
language with an iTIP REQUEST for the trial's time, or for a slot trial the span of its slots,
listed in the email (their schedule). Their calendar feed (services/api/people/calendar_feed.py)
keeps every trial they examine up to date; this invitation is sent once, on assignment."""

import uuid
from collections.abc import Sequence
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.calendar import TrialEvent, build_request
from shared.messages import queue_to_person
from shared.models import Person, Slot, Trial, utcnow
from shared.settings import get_settings


def invite(session: Session, trial: Trial, people: Sequence[Person]) -> None:
    """Queue each person's invitation to examine `trial` (flushed: it has its id and slots)."""
    if not people:
        return
    organizer_name, organizer_email = parseaddr(get_settings().mail_from)
    schedule = session.scalars(
        select(Slot).where(Slot.trial_id == trial.id).order_by(Slot.starts_at)
    ).all()
    starts = schedule[0].starts_at if schedule else trial.starts_at
    ends = schedule[-1].ends_at if schedule else trial.starts_at + trial.duration
    zone = ZoneInfo(trial.timezone)
    context = {
        "job_title": trial.job.title,
        "trial_title": trial.title,
        "starts_at": starts.astimezone(zone).isoformat(),
        "timezone": trial.timezone,
        "duration_minutes": int((ends - starts).total_seconds() // 60),
        "location": trial.location,
        "info": trial.info,
        "slots": [slot.starts_at.astimezone(zone).isoformat() for slot in schedule],
        "calendar_attached": True,
    }
    for person in people:
        event = TrialEvent(
            uid=f"{trial.id}.{person.id}@recrue-examiner",
            sequence=0,
            summary=f"{trial.title} – {trial.job.title}",
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
        queue_to_person(
            session,
            kind="examiner_invitation",
            # Once per assignment: assigned again after a removal, they are invited again.
            idempotency_key=f"examiner_invitation:{trial.id}:{person.id}:{uuid.uuid4()}",
            person=person,
            context=context,
            calendar_method="REQUEST",
            calendar_ics=build_request(event).decode(),
        )
