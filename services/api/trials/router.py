import uuid

from fastapi import APIRouter

from services.api.deps import HR, Reader, SessionDep
from services.api.trials import service
from services.api.trials.schemas import (
    ExaminerAssignment,
    InvitationRequest,
    InvitationsOut,
    ParticipationOut,
    TrialCreate,
    TrialOut,
)

router = APIRouter(tags=["trials"])


@router.post("/jobs/{job_id}/trials", status_code=201, response_model=TrialOut)
def plan_trial(job_id: uuid.UUID, data: TrialCreate, session: SessionDep, _: HR) -> object:
    return service.plan_trial(session=session, job_id=job_id, data=data)


@router.get("/jobs/{job_id}/trials", response_model=dict[str, list[TrialOut]])
def list_trials(job_id: uuid.UUID, session: SessionDep, _: Reader) -> object:
    return {"items": service.list_trials(session=session, job_id=job_id)}


@router.get("/trials/{trial_id}", response_model=TrialOut)
def get_trial(trial_id: uuid.UUID, session: SessionDep, _: Reader) -> object:
    return service.get_trial(session=session, trial_id=trial_id)


@router.put("/trials/{trial_id}/examiners", response_model=TrialOut)
def assign_examiners(
    trial_id: uuid.UUID, data: ExaminerAssignment, session: SessionDep, _: HR
) -> object:
    return service.assign_examiners(
        session=session, trial_id=trial_id, examiner_ids=data.examiner_ids
    )


@router.post("/trials/{trial_id}/invitations", status_code=201, response_model=InvitationsOut)
def invite(
    trial_id: uuid.UUID, request: InvitationRequest, session: SessionDep, agent: HR
) -> object:
    invited, already = service.invite(
        session=session, trial_id=trial_id, request=request, actor=agent.actor
    )
    return {"invited": invited, "already_invited": already}


@router.get("/trials/{trial_id}/participations", response_model=dict[str, list[ParticipationOut]])
def list_participations(trial_id: uuid.UUID, session: SessionDep, _: Reader) -> object:
    return {"items": service.list_participations(session=session, trial_id=trial_id)}
