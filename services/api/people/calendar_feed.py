"""An examiner's personal calendar feed: an `.ics` URL with a token, that Outlook, Google
Calendar and Thunderbird subscribe to, listing exactly the trials they examine (a slot trial:
each of its slots, with how many are booked). Only a hash of the token is stored; closing the
feed (or a person no longer active) makes the URL answer 404."""

import hashlib
import secrets
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from services.api.errors import NotFound
from shared.calendar import FeedEvent, build_feed
from shared.models import Person, Slot, Trial, TrialExaminer
from shared.settings import get_settings


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_feed(session: Session, person: Person) -> str:
    """A new feed URL for the person (any earlier one stops working)."""
    token = secrets.token_urlsafe(32)
    person.calendar_token_hash = _hash(token)
    session.flush()
    return f"{get_settings().public_base_url.rstrip('/')}/calendar/{token}.ics"


def close_feed(session: Session, person: Person) -> None:
    person.calendar_token_hash = None
    session.flush()


def feed(session: Session, token: str) -> bytes:
    """The calendar of the person whose feed token this is (NotFound otherwise)."""
    person = session.scalar(select(Person).where(Person.calendar_token_hash == _hash(token)))
    if person is None or not person.active:
        raise NotFound("no such calendar")
    trials = session.scalars(
        select(Trial)
        .join(TrialExaminer, TrialExaminer.trial_id == Trial.id)
        .where(TrialExaminer.person_id == person.id)
        .order_by(Trial.starts_at, Trial.id)
        .options(joinedload(Trial.job))
    ).all()
    slots = session.scalars(
        select(Slot)
        .where(Slot.trial_id.in_([t.id for t in trials if t.uses_slots]))
        .order_by(Slot.starts_at, Slot.id)
    ).all()
    events = []
    for trial in trials:
        whole = FeedEvent(
            uid=f"{trial.id}@recrue-examiner",
            summary=trial.title,
            description="\n\n".join(part for part in (trial.job.title, trial.info) if part.strip()),
            location=trial.location,
            starts_at=trial.starts_at,
            ends_at=trial.starts_at + timedelta(minutes=trial.duration_minutes),
            stamp=trial.updated_at,
            cancelled=trial.status == "cancelled",
        )
        if not trial.uses_slots:
            events.append(whole)
        events += [
            replace(
                whole,
                uid=f"{slot.id}@recrue-examiner",
                summary=f"{trial.title} ({slot.booked}/{slot.capacity})",
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                stamp=max(trial.updated_at, slot.updated_at),
            )
            for slot in slots
            if slot.trial_id == trial.id
        ]
    return build_feed(f"Recrue: {person.name}", events)
