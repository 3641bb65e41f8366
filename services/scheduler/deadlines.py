"""Deadlines and reminders, found in the database by beat's sweep (no long countdowns).

Each sweep is idempotent and safe with two beats: participation rows are locked and skipped by a
concurrent sweep, and every email has a unique key (one reminder per SEQUENCE).
"""

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, case, func, select, tuple_, update
from sqlalchemy.orm import Session, contains_eager, joinedload

from services.scheduler.invitations import answer_links, link_for, message_key, trial_context
from shared import history, links, loading, offers
from shared.messages import Email, queue_messages, queued_keys
from shared.models import Dossier, LinkPurpose, Participation, Trial, utcnow
from shared.outbox import Publish, unit_of_work
from shared.participations import SlotFull, announce, book, free_slots, move, send_calendar
from shared.tasks import CalendarChange
from shared.workflow import (
    DossierStatus,
    ParticipationStatus,
    TrialStatus,
    participation_transition,
)

ACTOR = "scheduler"
BATCH = 500
HORIZON = timedelta(days=31)  # reminder delays are at most 30 days
# A response reminder needs the invitation to have gone out at least its lead before it, and
# never needs more than this (see invited_well_before).
MOST_FRESH = timedelta(hours=24)
P = ParticipationStatus
Due = TypeVar("Due", bound=Select[*tuple[Any, ...]])


def _due_where(query: Due, status: P, column: Any, before: Any, after: Any) -> Due:
    """`query` restricted to the participations in `status` whose `column` falls in
    (after, before], of planned trials (joined), a batch at a time in (time, id) order, locked
    (two beats take different rows)."""
    return (
        query.join(Trial, Trial.id == Participation.trial_id)
        .where(
            Participation.status == status,
            Trial.status == TrialStatus.PLANNED,
            column.is_not(None),
            column > after,
            column <= before,
        )
        .order_by(column, Participation.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True, of=Participation)
    )


def _due_query(status: P, column: Any, before: Any, after: Any) -> Select[Participation]:
    """The due participations (`_due_where`), loaded as their emails use them."""
    return _due_where(select(Participation), status, column, before, after).options(
        contains_eager(Participation.trial).joinedload(Trial.job),
        joinedload(Participation.dossier).joinedload(Dossier.candidate),
        joinedload(Participation.slot),
    )


def _every_due(
    session: Session, status: P, column: Any, before: Any, after: Any
) -> Iterator[Participation]:
    """Every due participation (`_due_query`), batch after batch: the reminder sweep skips many
    (not due yet, reminded already), and a first batch of those must not hide the rest (with
    2,000 invitees on one deadline, only the first 500 used to be reminded)."""
    last: tuple[Any, uuid.UUID] | None = None
    while True:
        query = _due_query(status, column, before, after)
        if last is not None:
            query = query.where(tuple_(column, Participation.id) > tuple_(*last))
        batch = session.scalars(query).all()
        yield from batch
        if len(batch) < BATCH:
            return
        last = (getattr(batch[-1], column.key), batch[-1].id)


def invited_well_before(invited_at: datetime, reminder_at: datetime, lead: timedelta) -> bool:
    """The invitation went out well before the reminder's time: at least the reminder's lead
    (the time it leaves before the deadline; at most a day) before it. Otherwise the candidate
    would read "we have not received your answer" hours after the invitation itself."""
    return invited_at <= reminder_at - min(lead, MOST_FRESH)


def _longest_leads(session: Session) -> tuple[timedelta, timedelta]:
    """How long before its deadline, and before its trial, the earliest reminder of any planned
    trial goes out: no reminder is due for a time further away than that, so the sweep never
    reads those rows (100,000 open invitations a month away cost a tick nothing)."""
    response, trial = session.execute(
        select(func.max(Trial.response_reminder_hours), func.max(Trial.trial_reminder_hours)).where(
            Trial.status == "planned"
        )
    ).one()
    return (
        min(HORIZON, timedelta(hours=response or 0)),
        min(HORIZON, timedelta(hours=trial or 0)),
    )


def send_reminders(*, publish: Publish) -> int:
    """Remind unanswered invitations before their deadline, and attendees before the trial;
    returns how many reminders were queued. The reminders sent already (one per SEQUENCE) are
    found in one query per thousand, and the new ones queued in bulk (`queue_messages`)."""
    now = utcnow()
    with unit_of_work(publish) as session:
        response_lead, trial_lead = _longest_leads(session)
        due = [
            ("response_reminder", participation)
            for participation in _every_due(
                session, P.INVITED, Participation.response_deadline, now + response_lead, now
            )
            if _response_reminder_due(participation, now)
        ]
        due += [
            ("trial_reminder", participation)
            for participation in _every_due(
                session, P.ACCEPTED, Participation.starts_at, now + trial_lead, now
            )
            if _trial_reminder_due(participation, now)
        ]
        sent = queued_keys(session, [message_key(kind, p) for kind, p in due])
        tokens: list[dict[str, Any]] = []
        # Already reminded: no new email, and no new links.
        emails = [_reminder(tokens, kind, p) for kind, p in due if message_key(kind, p) not in sent]
        links.insert_all(session, tokens)
        queue_messages(session, emails, actor=ACTOR)
    return len(emails)


def _response_reminder_due(participation: Participation, now: datetime) -> bool:
    assert participation.response_deadline is not None
    hours = timedelta(hours=participation.trial.response_reminder_hours)
    if not hours or participation.response_deadline - hours > now:
        return False
    # While the invitation itself is still fresh: no "we have not heard".
    return invited_well_before(
        participation.created_at, participation.response_deadline - hours, hours
    )


def _trial_reminder_due(participation: Participation, now: datetime) -> bool:
    assert participation.starts_at is not None
    hours = timedelta(hours=participation.trial.trial_reminder_hours)
    return bool(hours) and participation.starts_at - hours <= now


def _reminder(tokens: list[dict[str, Any]], kind: str, participation: Participation) -> Email:
    """The reminder email; a response reminder carries the links to answer (their rows are
    added to `tokens`)."""
    context = trial_context(participation)
    if kind == "response_reminder":
        if participation.trial.uses_slots and participation.slot_id is None:
            context["booking_link"] = link_for(tokens, participation, LinkPurpose.BOOK_SLOT)
        else:
            context.update(answer_links(tokens, participation))
    return Email(
        kind=kind,
        idempotency_key=message_key(kind, participation),
        candidate=participation.dossier.candidate,
        context=context,
        dossier_id=participation.dossier_id,
    )


def expire_unanswered(*, publish: Publish) -> int:
    """At the deadline, an unanswered invitation expires (or, if the trial says so, gets the
    first free slot); HR sees it in the history and in the trial's expired participations.

    A tick claims one batch (the next tick takes the rest) and writes it in a few statements:
    the statuses in one UPDATE, the history in one INSERT, and one calendar change per
    participation for the scheduler's SEND_CALENDARS task, which builds the expiry email and
    its METHOD:CANCEL after the commit, as it does for every other calendar. That event is in
    the outbox, written in this transaction: a crash after the commit loses no email."""
    now = utcnow()
    with unit_of_work(publish) as session:
        claimed = session.execute(
            _due_where(
                select(Participation.id, Trial.auto_assign_slots),
                P.INVITED,
                Participation.response_deadline,
                now,
                now - HORIZON * 12,
            )
        ).all()
        auto = [id_ for id_, auto_assign in claimed if auto_assign]
        left = _assign_or_leave(session, auto)
        expired = _expire(session, [id_ for id_, auto_assign in claimed if not auto_assign] + left)
    return len(auto) - len(left) + expired


def _assign_or_leave(session: Session, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Give these participations (of trials that assign at the deadline) the first free slot,
    one by one; returns those left without one, to expire."""
    if not ids:
        return []
    left = []
    for participation in session.scalars(
        select(Participation).where(Participation.id.in_(ids)).options(*loading.PARTICIPATION)
    ):
        if not _assign_first_free(session, participation):
            left.append(participation.id)
    return left


def _expire(session: Session, ids: list[uuid.UUID]) -> int:
    """Expire these claimed invitations in bulk; returns how many. Those with an event in the
    candidate's calendar (a time: `has_calendar_event`) move to the next SEQUENCE: their expiry
    email carries METHOD:CANCEL for it, same UID."""
    if not ids:
        return 0
    expired = participation_transition(P.INVITED, "expire")
    rows = session.execute(
        update(Participation)
        # Still invited: PostgreSQL's claim locked them, but SQLite takes no row locks, and a
        # second beat that read the same rows must change none of them.
        .where(Participation.id.in_(ids), Participation.status == P.INVITED)
        .values(
            status=expired,
            sequence=Participation.sequence
            + case((Participation.starts_at.is_not(None), 1), else_=0),
        )
        .returning(Participation.id, Participation.dossier_id, Participation.sequence)
        .execution_options(synchronize_session=False)
    ).all()
    history.record_many(
        session,
        actor=ACTOR,
        action="invitation_expired",
        entries=[
            {
                "dossier_id": dossier_id,
                "before": {"status": P.INVITED.value},
                "after": {"status": expired.value, "participation_id": str(id_)},
            }
            for id_, dossier_id, _ in rows
        ],
    )
    for id_, _, sequence in rows:
        send_calendar(
            session, CalendarChange(participation_id=id_, sequence=sequence, purpose="expire")
        )
    return len(rows)


def _assign_first_free(session: Session, participation: Participation) -> bool:
    for slot in free_slots(session, participation.trial_id):
        try:
            book(session=session, participation=participation, slot_id=slot.id)
        except SlotFull:
            continue
        move(participation, "book_slot")
        participation.answered_at = utcnow()
        announce(session, participation, "confirm_booking")
        history.record(
            session,
            actor=ACTOR,
            action="slot_assigned",
            dossier_id=participation.dossier_id,
            after={"slot_id": str(slot.id), "participation_id": str(participation.id)},
        )
        return True
    return False


def expire_offers(*, publish: Publish) -> int:
    """An offer unanswered past its deadline counts as declined: the next of the reserve is
    retained and offered the post (or the job records that its reserve ran out)."""
    with unit_of_work(publish) as session:
        due = list(
            session.scalars(
                select(Dossier)
                .where(
                    Dossier.status == DossierStatus.RETAINED,
                    Dossier.offer_expires_at.is_not(None),
                    Dossier.offer_expires_at <= utcnow(),
                )
                .options(*loading.DOSSIER)
                .limit(BATCH)
                .with_for_update(skip_locked=True, of=Dossier)
            )
        )
        for dossier in due:
            offers.decline(session, dossier, reason="no answer by the deadline", actor=ACTOR)
    return len(due)
