import uuid

from fastapi import APIRouter

from services.api.deps import HR, CurrentAgent, SessionDep
from services.api.idempotency import Idempotent
from services.api.openapi import problems
from services.api.results import service
from services.api.results.schemas import GlobalScoreInput, GlobalScoreOut, ResultInput
from services.api.trials.schemas import ParticipationOut

router = APIRouter(tags=["results"])


@router.post(
    "/participations/{participation_id}/result",
    response_model=ParticipationOut,
    responses=problems(403, forbidden="Neither HR nor an examiner assigned to this trial"),
    dependencies=[Idempotent],
)
def record_result(
    participation_id: uuid.UUID, data: ResultInput, session: SessionDep, agent: CurrentAgent
) -> object:
    """HR, or an examiner assigned to the trial, records a result."""
    return service.record_result(
        session=session, participation_id=participation_id, data=data, agent=agent
    )


@router.post(
    "/dossiers/{dossier_id}/global-score", response_model=GlobalScoreOut, dependencies=[Idempotent]
)
def set_global_score(
    dossier_id: uuid.UUID, data: GlobalScoreInput, session: SessionDep, agent: HR
) -> object:
    return service.set_global_score(
        session=session,
        dossier_id=dossier_id,
        score=data.score,
        reason=data.reason,
        actor=agent.actor,
    )
