"""Personal data: a person's export and erasure, legal holds on dossiers."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.api import visibility
from services.api.candidates.schemas import CandidateOut
from services.api.deps import HR, SessionDep
from services.api.dossiers.schemas import DossierOut
from services.api.idempotency import Idempotent
from services.api.openapi import binary, problems
from services.api.privacy import service
from services.api.privacy.schemas import Erasure, LegalHold

router = APIRouter(tags=["personal data"])


@router.get(
    "/candidates/{candidate_id}/export",
    response_class=Response,
    responses={
        200: {
            "description": "A ZIP: `person.json` (everything about the person) and `files/`",
            "content": binary("application/zip"),
        },
        **problems(409, conflict="The person was erased (`state`: `anonymised`)"),
    },
)
def export(
    candidate_id: uuid.UUID,
    session: SessionDep,
    agent: HR,
    include_notes: Annotated[bool, Query(description="HR's notes and internal texts too")] = False,
) -> Response:
    """Everything Recrue holds about the person (GDPR Art. 15 and 20); recorded in their
    history."""
    archive, name = service.export(
        session=session, candidate_id=candidate_id, include_notes=include_notes, actor=agent.actor
    )
    return Response(
        archive,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/candidates/{candidate_id}/erase",
    response_model=CandidateOut,
    responses=problems(
        409,
        conflict="A dossier is under a legal hold (`legal_hold`) or is the recruit's, kept for "
        "the personnel file (`personnel_file`)",
    ),
    dependencies=[Idempotent],
)
def erase(candidate_id: uuid.UUID, data: Erasure, session: SessionDep, agent: HR) -> object:
    """Anonymise the person now: the same operation as the retention sweeps."""
    return service.erase(
        session=session, candidate_id=candidate_id, reason=data.reason, actor=agent.actor
    )


@router.post(
    "/dossiers/{dossier_id}/legal-hold",
    response_model=DossierOut,
    responses=problems(409, conflict="The dossier was anonymised (`state`: `anonymised`)"),
    dependencies=[Idempotent],
)
def hold(dossier_id: uuid.UUID, data: LegalHold, session: SessionDep, agent: HR) -> object:
    """Keep the dossier from every sweep and erasure until the hold is lifted."""
    dossier = service.place_hold(
        session=session, dossier_id=dossier_id, reason=data.reason, actor=agent.actor
    )
    return visibility.dossier(dossier, agent)


@router.delete(
    "/dossiers/{dossier_id}/legal-hold",
    response_model=DossierOut,
    responses=problems(409, conflict="The dossier is under no hold (`state`: `not_held`)"),
    dependencies=[Idempotent],
)
def lift_hold(dossier_id: uuid.UUID, session: SessionDep, agent: HR) -> object:
    """Lift the hold: the dossier's retention applies again."""
    dossier = service.lift_hold(session=session, dossier_id=dossier_id, actor=agent.actor)
    return visibility.dossier(dossier, agent)
