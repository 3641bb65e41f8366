import uuid
from typing import Literal

from fastapi import APIRouter

from services.api import visibility
from services.api.deps import HR, DossierReader, Reader, SessionDep
from services.api.idempotency import Idempotent
from services.api.trials import changes, service
from services.api.trials.schemas import (
    Cancellation,
    ExaminerAssignment,
    InvitationRequest,
    InvitationsOut,
    ParticipationOut,
    ParticipationPostponement,
    SlotOut,
    TrialCreate,
    TrialOut,
    TrialPostponement,
    TrialUpdate,
)

router = APIRouter(tags=["trials"])
ParticipationState = Literal["invited", "accepted", "declined", "expired", "cancelled"]


@router.post(
    "/jobs/{job_id}/trials", status_code=201, response_model=TrialOut, dependencies=[Idempotent]
)
def plan_trial(job_id: uuid.UUID, data: TrialCreate, session: SessionDep, _: HR) -> object:
    return service.plan_trial(session=session, job_id=job_id, data=data)


@router.get("/jobs/{job_id}/trials", response_model=dict[str, list[TrialOut]])
def list_trials(job_id: uuid.UUID, session: SessionDep, _: Reader) -> object:
    return {"items": service.list_trials(session=session, job_id=job_id)}


@router.get("/trials/{trial_id}", response_model=TrialOut)
def get_trial(trial_id: uuid.UUID, session: SessionDep, agent: DossierReader) -> object:
    """The trial; an examiner sees the trials they are assigned to."""
    return service.get_trial(session=session, trial_id=trial_id, agent=agent)


@router.put("/trials/{trial_id}/examiners", response_model=TrialOut, dependencies=[Idempotent])
def assign_examiners(
    trial_id: uuid.UUID, data: ExaminerAssignment, session: SessionDep, _: HR
) -> object:
    return service.assign_examiners(
        session=session, trial_id=trial_id, examiner_ids=data.examiner_ids
    )


@router.post(
    "/trials/{trial_id}/invitations",
    status_code=201,
    response_model=InvitationsOut,
    dependencies=[Idempotent],
)
def invite(
    trial_id: uuid.UUID, request: InvitationRequest, session: SessionDep, agent: HR
) -> object:
    invited, already = service.invite(
        session=session, trial_id=trial_id, request=request, actor=agent.actor
    )
    return {"invited": invited, "already_invited": already}


@router.get("/trials/{trial_id}/participations", response_model=dict[str, list[ParticipationOut]])
def list_participations(
    trial_id: uuid.UUID,
    session: SessionDep,
    agent: DossierReader,
    status: ParticipationState | None = None,
) -> object:
    """Who is invited and how each answered (`status=expired`: the unanswered at the deadline);
    an examiner sees those of the trials they are assigned to."""
    service.get_trial(session=session, trial_id=trial_id, agent=agent)
    rows = service.list_participations(session=session, trial_id=trial_id, status=status)
    items = [ParticipationOut.model_validate(p) for p in rows]
    return {"items": visibility.participations(items, agent, graded={trial_id})}


@router.get("/trials/{trial_id}/slots", response_model=dict[str, list[SlotOut]])
def list_slots(trial_id: uuid.UUID, session: SessionDep, _: Reader) -> object:
    return {"items": service.list_slots(session=session, trial_id=trial_id)}


@router.patch("/trials/{trial_id}", response_model=TrialOut, dependencies=[Idempotent])
def update_trial(trial_id: uuid.UUID, data: TrialUpdate, session: SessionDep, agent: HR) -> object:
    return changes.update_trial(session=session, trial_id=trial_id, data=data, actor=agent.actor)


@router.post("/trials/{trial_id}/postpone", response_model=TrialOut, dependencies=[Idempotent])
def postpone_trial(
    trial_id: uuid.UUID, data: TrialPostponement, session: SessionDep, agent: HR
) -> object:
    return changes.postpone_trial(
        session=session,
        trial_id=trial_id,
        starts_at=data.starts_at,
        reason=data.reason,
        actor=agent.actor,
    )


@router.post("/trials/{trial_id}/cancel", response_model=TrialOut, dependencies=[Idempotent])
def cancel_trial(trial_id: uuid.UUID, data: Cancellation, session: SessionDep, agent: HR) -> object:
    return changes.cancel_trial(
        session=session, trial_id=trial_id, reason=data.reason, actor=agent.actor
    )


@router.post(
    "/participations/{participation_id}/postpone",
    response_model=ParticipationOut,
    dependencies=[Idempotent],
)
def postpone_participation(
    participation_id: uuid.UUID, data: ParticipationPostponement, session: SessionDep, agent: HR
) -> object:
    return changes.postpone_participation(
        session=session,
        participation_id=participation_id,
        starts_at=data.starts_at,
        slot_id=data.slot_id,
        reason=data.reason,
        actor=agent.actor,
    )


@router.post(
    "/participations/{participation_id}/cancel",
    response_model=ParticipationOut,
    dependencies=[Idempotent],
)
def cancel_participation(
    participation_id: uuid.UUID, data: Cancellation, session: SessionDep, agent: HR
) -> object:
    return changes.cancel_participation(
        session=session, participation_id=participation_id, reason=data.reason, actor=agent.actor
    )
