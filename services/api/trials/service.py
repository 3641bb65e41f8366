"""Trials of a job and the invitation of dossiers to them."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from services.api.auth import Agent, Role, examines, only_own_trials
from services.api.errors import Conflict, Forbidden, Invalid, NotFound
from services.api.jobs.service import get_job
from services.api.trials import examiner_invitations
from services.api.trials.schemas import InvitationRequest, TrialCreate
from shared import history, loading, slots
from shared.models import (
    Application,
    Dossier,
    Participation,
    Person,
    Slot,
    Trial,
    TrialExaminer,
    utcnow,
)
from shared.participations import send_calendar
from shared.tasks import CalendarChange
from shared.workflow import (
    INVITABLE_DOSSIER_STATES,
    ApplicationStatus,
    ParticipationStatus,
    TrialStatus,
)


def get_trial(
    *, session: Session, trial_id: uuid.UUID, for_update: bool = False, agent: Agent | None = None
) -> Trial:
    """The trial, or NotFound (locked for the transaction with `for_update`); an examiner
    `agent` may see only the trials assigned to them."""
    trial = session.get(
        Trial,
        trial_id,
        with_for_update={"of": Trial} if for_update else None,
        options=loading.TRIAL,
    )
    if trial is None:
        raise NotFound(f"trial {trial_id} not found")
    if agent is not None and only_own_trials(agent) and not examines(agent, trial.examiner_ids):
        raise Forbidden("this trial is not assigned to you")
    return trial


def get_participation(*, session: Session, participation_id: uuid.UUID) -> Participation:
    """The participation (locked for the transaction), or NotFound."""
    participation = session.get(
        Participation,
        participation_id,
        with_for_update={"of": Participation},
        options=loading.PARTICIPATION_GRADED,
    )
    if participation is None:
        raise NotFound(f"participation {participation_id} not found")
    return participation


def plan_trial(*, session: Session, job_id: uuid.UUID, data: TrialCreate) -> Trial:
    """Plan a trial for a job, with its examiners and, for a booking trial, its slots."""
    get_job(session=session, job_id=job_id)
    trial = Trial(
        job_id=job_id,
        examiner_links=[],
        **data.model_dump(exclude={"booking", "examiner_ids"}),
    )
    if data.booking is not None:
        windows = [(w.start, w.end) for w in data.booking.windows]
        how_many = slots.count(windows, data.booking.slot_minutes)
        if not how_many:
            raise Invalid("the booking windows hold no whole slot", field="booking")
        if how_many > slots.MAX_SLOTS:
            raise Invalid(f"at most {slots.MAX_SLOTS} slots per trial", field="booking")
        times = list(slots.cut(windows, data.booking.slot_minutes))
        trial.slot_minutes = data.booking.slot_minutes
        trial.slot_capacity = data.booking.capacity
        trial.auto_assign_slots = data.booking.auto_assign
        trial.booking_windows = [
            {"start": s.isoformat(), "end": e.isoformat()} for s, e in sorted(windows)
        ]
        session.add_all(
            Slot(trial=trial, starts_at=s, ends_at=e, capacity=data.booking.capacity)
            for s, e in times
        )
    session.add(trial)
    changes = _set_examiners(session, trial, data.examiner_ids)
    session.flush()
    examiner_invitations.send(session, trial, changes)
    return trial


def list_slots(*, session: Session, trial_id: uuid.UUID) -> Sequence[Slot]:
    """A booking trial's slots in time order, with how many seats each has taken."""
    get_trial(session=session, trial_id=trial_id)
    return session.scalars(
        select(Slot).where(Slot.trial_id == trial_id).order_by(Slot.starts_at)
    ).all()


def assign_examiners(
    *, session: Session, trial_id: uuid.UUID, examiner_ids: list[uuid.UUID]
) -> Trial:
    """Replace the examiners assigned to a trial; those newly assigned are invited, those no
    longer assigned get the cancellation of their invitation."""
    trial = get_trial(session=session, trial_id=trial_id)
    changes = _set_examiners(session, trial, examiner_ids)
    session.flush()
    examiner_invitations.send(session, trial, changes)
    return trial


def _set_examiners(
    session: Session, trial: Trial, examiner_ids: list[uuid.UUID]
) -> examiner_invitations.Changes:
    """Assign exactly these people; returns the assignments made and those ended."""
    wanted = list(dict.fromkeys(examiner_ids))
    known = {link.person_id for link in trial.examiner_links}
    found = session.scalars(select(Person).where(Person.id.in_([*wanted, *known])))
    people = {p.id: p for p in found}
    wrong = [
        str(i)
        for i in wanted
        if i not in people or Role.EXAMINER not in people[i].roles or not people[i].active
    ]
    if wrong:
        raise Invalid(
            f"not active examiners: {', '.join(wrong)}", field="examiner_ids", examiner_ids=wrong
        )
    # Diffed, not replaced: the ORM inserts before it deletes, so a new link for an examiner
    # already assigned would collide with the old one on the unique (trial, person).
    kept = {link.person_id: link for link in trial.examiner_links if link.person_id in wanted}
    ended = [
        (link, people[link.person_id]) for link in trial.examiner_links if link not in kept.values()
    ]
    # Each assignment has its own id (the UID of its calendar event): made here, before flush.
    made = {i: TrialExaminer(id=uuid.uuid4(), person_id=i) for i in wanted if i not in kept}
    trial.examiner_links = [kept.get(i) or made[i] for i in wanted]
    return examiner_invitations.Changes(
        made=[(link, people[i]) for i, link in made.items()], ended=ended
    )


def list_trials(*, session: Session, job_id: uuid.UUID) -> Sequence[Trial]:
    """The trials of a job, in time order."""
    get_job(session=session, job_id=job_id)
    return session.scalars(
        select(Trial)
        .where(Trial.job_id == job_id)
        .options(selectinload(Trial.examiner_links))
        .order_by(Trial.starts_at, Trial.id)
    ).all()


def list_participations(
    *, session: Session, trial_id: uuid.UUID, status: str | None = None
) -> Sequence[Participation]:
    """Who is invited to a trial, and their answers."""
    get_trial(session=session, trial_id=trial_id)
    query = (
        select(Participation)
        .where(Participation.trial_id == trial_id)
        .order_by(Participation.created_at, Participation.id)
    )
    if status:
        query = query.where(Participation.status == status)
    return session.scalars(query).all()


def _dossiers_to_invite(
    session: Session, trial: Trial, request: InvitationRequest
) -> list[uuid.UUID]:
    if request.all_eligible:
        return list(
            session.scalars(
                select(Dossier.id)
                .join(Application, Application.id == Dossier.application_id)
                .where(
                    Dossier.job_id == trial.job_id,
                    Dossier.status.in_(INVITABLE_DOSSIER_STATES),
                    # HR set these aside (unavailable until a date or until marked available).
                    Application.status != ApplicationStatus.UNAVAILABLE,
                )
                .order_by(Dossier.created_at, Dossier.id)
            )
        )
    assert request.dossier_ids is not None
    wanted = list(dict.fromkeys(request.dossier_ids))
    found = {
        row.id: row
        for row in session.execute(
            select(Dossier.id, Dossier.job_id, Dossier.status).where(Dossier.id.in_(wanted))
        )
    }
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise NotFound(f"dossiers not found: {', '.join(missing)}", dossier_ids=missing)
    for dossier_id in wanted:
        dossier = found[dossier_id]
        if dossier.job_id != trial.job_id:
            raise Invalid(f"dossier {dossier_id} is not for this trial's job", field="dossier_ids")
        if dossier.status not in INVITABLE_DOSSIER_STATES:
            raise Conflict(
                f"dossier {dossier_id} is {dossier.status}: it cannot be invited",
                state=dossier.status,
                dossier_id=dossier_id,
            )
    return wanted


def invite(
    *, session: Session, trial_id: uuid.UUID, request: InvitationRequest, actor: str
) -> tuple[list[dict[str, Any]], list[uuid.UUID]]:
    """Invite dossiers to a trial; the scheduler builds and sends each calendar invitation.
    Returns the new participations (as rows) and the dossiers that were already invited.

    Rows are inserted in bulk: inviting every eligible dossier of a job can mean thousands."""
    trial = get_trial(session=session, trial_id=trial_id)
    if trial.status != TrialStatus.PLANNED:
        raise Conflict(f"trial is {trial.status}: it cannot invite", state=trial.status)
    dossier_ids = _dossiers_to_invite(session, trial, request)
    already = set(
        session.scalars(
            select(Participation.dossier_id).where(
                Participation.trial_id == trial.id, Participation.dossier_id.in_(dossier_ids)
            )
        )
    )
    now = utcnow()
    invited = [
        {
            "id": uuid.uuid4(),
            "trial_id": trial.id,
            "dossier_id": dossier_id,
            "status": ParticipationStatus.INVITED.value,
            "slot_id": None,
            "starts_at": None if trial.uses_slots else trial.starts_at,
            "response_deadline": trial.response_deadline,
            "sequence": 0,
            "answered_at": None,
            "result": None,
            "created_at": now,
            "updated_at": now,
        }
        for dossier_id in dossier_ids
        if dossier_id not in already
    ]
    if invited:
        session.execute(insert(Participation), invited)
    history.record_many(
        session,
        actor=actor,
        action="invited_to_trial",
        entries=(
            {
                "dossier_id": row["dossier_id"],
                "after": {"trial_id": str(trial.id), "participation_id": str(row["id"])},
            }
            for row in invited
        ),
    )
    for row in invited:
        send_calendar(session, CalendarChange(participation_id=row["id"], sequence=0))
    return invited, [i for i in dossier_ids if i in already]
