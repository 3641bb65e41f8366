import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, UploadFile
from fastapi.responses import FileResponse

from services.api import visibility
from services.api.deps import HR, DossierReader, SessionDep
from services.api.dossiers import service
from services.api.dossiers.schemas import (
    Admission,
    DossierOut,
    DossierSummary,
    HistoryOut,
    Rejection,
    Withdrawal,
)
from services.api.errors import NotFound
from services.api.files import service as files
from services.api.files.schemas import StoredFileOut
from services.api.files.service import MEDIA_TYPES
from services.api.idempotency import Idempotent
from services.api.notes import service as notes
from services.api.notes.schemas import NoteCreate, NoteOut
from services.api.openapi import binary
from services.api.pagination import Page, PageParams, page_params, paginate
from services.api.schemas import CampaignQuery, YearQuery
from shared.models import FilePurpose
from shared.workflow import DossierStatus

router = APIRouter(tags=["dossiers"])


@router.get("/dossiers", response_model=Page[DossierOut])
def list_dossiers(
    session: SessionDep,
    agent: DossierReader,
    page: Annotated[PageParams, Depends(page_params)],
    job_id: uuid.UUID | None = None,
    year: YearQuery = None,
    campaign: CampaignQuery = None,
    status: DossierStatus | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> object:
    query = service.list_dossiers(
        agent=agent, job_id=job_id, year=year, campaign=campaign, status=status, q=q
    )
    result = paginate(session, query, page)
    result["items"] = [visibility.dossier(dossier, agent) for dossier in result["items"]]
    return result


@router.get("/dossiers/summary", response_model=DossierSummary)
def dossier_summary(
    session: SessionDep,
    agent: DossierReader,
    group_by: Annotated[str, Query(pattern="^job$")] = "job",
    year: YearQuery = None,
    campaign: CampaignQuery = None,
) -> object:
    return {
        "items": service.summary_by_job(session=session, agent=agent, year=year, campaign=campaign)
    }


@router.get("/dossiers/{dossier_id}", response_model=DossierOut)
def get_dossier(dossier_id: uuid.UUID, session: SessionDep, agent: DossierReader) -> object:
    return visibility.dossier(
        service.get_dossier(session=session, dossier_id=dossier_id, agent=agent), agent
    )


@router.get("/dossiers/{dossier_id}/history", response_model=HistoryOut)
def dossier_history(dossier_id: uuid.UUID, session: SessionDep, agent: DossierReader) -> object:
    entries = service.dossier_history(session=session, dossier_id=dossier_id, agent=agent)
    return {"items": visibility.history(entries, agent)}


@router.post("/dossiers/{dossier_id}/admit", response_model=DossierOut, dependencies=[Idempotent])
def admit(dossier_id: uuid.UUID, data: Admission, session: SessionDep, agent: HR) -> object:
    """Accept a dossier `under_review` for the post (with DOSSIER_REVIEW=true); 409 otherwise."""
    return service.admit(
        session=session,
        dossier_id=dossier_id,
        note=data.note,
        notify=data.notify,
        actor=agent.actor,
    )


@router.post("/dossiers/{dossier_id}/reject", response_model=DossierOut, dependencies=[Idempotent])
def reject(dossier_id: uuid.UUID, data: Rejection, session: SessionDep, agent: HR) -> object:
    return service.reject(
        session=session,
        dossier_id=dossier_id,
        reason=data.reason,
        notify=data.notify,
        actor=agent.actor,
    )


@router.post(
    "/dossiers/{dossier_id}/withdraw", response_model=DossierOut, dependencies=[Idempotent]
)
def withdraw(dossier_id: uuid.UUID, data: Withdrawal, session: SessionDep, agent: HR) -> object:
    return service.withdraw(
        session=session, dossier_id=dossier_id, reason=data.reason, actor=agent.actor
    )


@router.post(
    "/dossiers/{dossier_id}/notes",
    status_code=201,
    response_model=NoteOut,
    dependencies=[Idempotent],
)
def add_note(dossier_id: uuid.UUID, data: NoteCreate, session: SessionDep, agent: HR) -> object:
    service.get_dossier(session=session, dossier_id=dossier_id)
    return notes.add_note(session=session, text=data.text, actor=agent.actor, dossier_id=dossier_id)


@router.get("/dossiers/{dossier_id}/notes", response_model=dict[str, list[NoteOut]])
def list_notes(dossier_id: uuid.UUID, session: SessionDep, _: HR) -> object:
    service.get_dossier(session=session, dossier_id=dossier_id)
    return {"items": notes.list_notes(session=session, dossier_id=dossier_id)}


@router.post(
    "/dossiers/{dossier_id}/attachments",
    status_code=201,
    response_model=StoredFileOut,
    dependencies=[Idempotent],
)
def attach(dossier_id: uuid.UUID, file: UploadFile, session: SessionDep, agent: HR) -> object:
    return service.attach(
        session=session,
        dossier_id=dossier_id,
        upload=file.file,
        filename=file.filename,
        actor=agent.actor,
    )


@router.get("/dossiers/{dossier_id}/attachments", response_model=dict[str, list[StoredFileOut]])
def list_attachments(dossier_id: uuid.UUID, session: SessionDep, _: HR) -> object:
    return {"items": service.attachments(session=session, dossier_id=dossier_id)}


@router.get(
    "/attachments/{file_id}",
    response_class=FileResponse,
    responses={200: {"description": "The file, as uploaded", "content": binary(*MEDIA_TYPES)}},
)
def download_attachment(file_id: uuid.UUID, session: SessionDep, _: HR) -> FileResponse:
    stored = files.get_file(session=session, file_id=file_id)
    if stored.purpose != FilePurpose.ATTACHMENT:
        raise NotFound(f"attachment {file_id} not found")
    return files.download(stored)
