"""Changes to a participation shared by the api and the scheduler: its status (through the
transition table of shared/workflow.py), slot booking, and the announcement of a new SEQUENCE of
its calendar."""

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.models import Participation, Slot
from shared.outbox import add_to_batch
from shared.tasks import CALENDARS_PER_TASK, SEND_CALENDARS, CalendarChange, CalendarPurpose
from shared.workflow import ParticipationStatus, participation_transition


class SlotFull(Exception):
    """Every seat of the slot is taken."""

    def __init__(self, slot_id: uuid.UUID) -> None:
        super().__init__("this slot is full: choose another one")
        self.slot_id = slot_id


class UnknownSlot(Exception):
    """No such slot in the participation's trial."""

    def __init__(self, slot_id: uuid.UUID) -> None:
        super().__init__(f"slot {slot_id} not found in this trial")
        self.slot_id = slot_id


def move(participation: Participation, action: str) -> ParticipationStatus:
    """Apply `action` to the participation's status (TransitionRefused if its state forbids
    it, which the API answers with a 409 naming the state); returns the status it had."""
    before = participation.status
    participation.status = participation_transition(before, action)
    return before


def announce(
    session: Session,
    participation: Participation,
    purpose: CalendarPurpose,
    *,
    previous_starts_at: datetime | None = None,
    reason: str | None = None,
    changed: list[str] | None = None,
    ending: str | None = None,
) -> None:
    """Raise the SEQUENCE and have the scheduler send the calendar for it (UID unchanged)."""
    participation.sequence += 1
    send_calendar(
        session,
        CalendarChange(
            participation_id=participation.id,
            sequence=participation.sequence,
            purpose=purpose,
            previous_starts_at=previous_starts_at,
            reason=reason,
            changed=changed,
            ending=ending,
        ),
    )


def has_calendar_event(participation: Participation) -> bool:
    """The candidate was sent an invitation with a time (a fixed-time trial, or a booked slot):
    an event is in their calendar until a METHOD:CANCEL removes it."""
    return participation.starts_at is not None


def withdraw_event(session: Session, participation: Participation, ending: str) -> None:
    """A participation that ended (`ending`: declined, dossier_rejected...) sends METHOD:CANCEL,
    same UID and a higher SEQUENCE, if the candidate has its event in their calendar."""
    if has_calendar_event(participation):
        announce(session, participation, "cancel", ending=ending)


def send_calendar(session: Session, change: CalendarChange) -> None:
    """Have the scheduler build and email this calendar once the transaction commits; the
    changes of one transaction (a whole trial's postponement) travel in blocks. The key names
    the purpose too: an expiry without an event in the calendar keeps the SEQUENCE of the
    invitation it ends."""
    add_to_batch(
        session,
        task_name=SEND_CALENDARS,
        item=change,
        idempotency_key=f"calendar:{change.participation_id}:{change.sequence}:{change.purpose}",
        size=CALENDARS_PER_TASK,
    )


def free_slots(session: Session, trial_id: uuid.UUID) -> list[Slot]:
    """The slots of a trial with a seat left, in time order."""
    return list(
        session.scalars(
            select(Slot)
            .where(Slot.trial_id == trial_id, Slot.booked < Slot.capacity)
            .order_by(Slot.starts_at)
        )
    )


def book(*, session: Session, participation: Participation, slot_id: uuid.UUID) -> Slot:
    """Give the participation this slot (releasing its previous one), or SlotFull."""
    if participation.slot_id == slot_id:  # already booked there
        assert participation.slot is not None
        return participation.slot
    # One conditional UPDATE: two bookings racing for the last seat cannot both pass it. It
    # returns the slot, so a booking costs one statement when a seat is free.
    slot = session.scalars(
        update(Slot)
        .where(
            Slot.id == slot_id,
            Slot.trial_id == participation.trial_id,
            Slot.booked < Slot.capacity,
        )
        .values(booked=Slot.booked + 1)
        .returning(Slot)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).one_or_none()
    if slot is None:
        found = session.get(Slot, slot_id)
        if found is None or found.trial_id != participation.trial_id:
            raise UnknownSlot(slot_id)
        raise SlotFull(slot_id)
    release(session=session, participation=participation)
    participation.slot_id = slot.id
    participation.slot = slot
    participation.starts_at = slot.starts_at
    return slot


def release(*, session: Session, participation: Participation) -> None:
    """Give back the participation's slot, if it has one."""
    if participation.slot_id is None:
        return
    session.execute(
        update(Slot)
        .where(Slot.id == participation.slot_id, Slot.booked > 0)
        .values(booked=Slot.booked - 1)
        .execution_options(synchronize_session=False)
    )
    participation.slot_id = None
    participation.slot = None
