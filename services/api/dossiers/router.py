import uuid

from fastapi import APIRouter

from services.api.deps import Reader, SessionDep
from services.api.dossiers import service
from services.api.dossiers.schemas import DossierOut, HistoryOut

router = APIRouter(prefix="/dossiers", tags=["dossiers"])


@router.get("/{dossier_id}", response_model=DossierOut)
def get_dossier(dossier_id: uuid.UUID, session: SessionDep, _: Reader) -> object:
    return service.get_dossier(session=session, dossier_id=dossier_id)


@router.get("/{dossier_id}/history", response_model=HistoryOut)
def dossier_history(dossier_id: uuid.UUID, session: SessionDep, _: Reader) -> object:
    return {"items": service.dossier_history(session=session, dossier_id=dossier_id)}
