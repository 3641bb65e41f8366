import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, UploadFile
from fastapi.responses import FileResponse

from services.api import visibility
from services.api.applications import service
from services.api.applications.schemas import (
    ApplicationCreate,
    ApplicationKind,
    ApplicationOut,
    ApplicationStatusName,
    ApplicationUpdate,
    ChangesRequest,
    JobProposal,
    Unavailability,
)
from services.api.deps import HR, Reader, SessionDep
from services.api.dossiers.schemas import HistoryOut
from services.api.files.schemas import StoredFileOut
from services.api.files.service import MEDIA_TYPES, download
from services.api.idempotency import Idempotent
from services.api.notes import service as notes
from services.api.notes.schemas import NoteCreate, NoteOut
from services.api.openapi import binary, problems
from services.api.pagination import Page, PageParams, page_params, paginate

router = APIRouter(prefix="/applications", tags=["applications"])


@router.post(
    "",
    status_code=201,
    response_model=ApplicationOut,
    responses=problems(404, not_found="No such job_id or candidate_id"),
    dependencies=[Idempotent],
)
def submit_application(data: ApplicationCreate, session: SessionDep, agent: HR) -> object:
    return service.submit_application(session=session, data=data, actor=agent.actor)


@router.get("", response_model=Page[ApplicationOut])
def list_applications(
    session: SessionDep,
    _: Reader,
    page: Annotated[PageParams, Depends(page_params)],
    kind: ApplicationKind | None = None,
    job_id: uuid.UUID | None = None,
    status: ApplicationStatusName | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Literal["created_at", "-created_at"] = "-created_at",
) -> object:
    query = service.list_applications(
        kind=kind, job_id=job_id, status=status, q=q, newest_first=sort == "-created_at"
    )
    return paginate(session, query, page)


@router.get("/{application_id}", response_model=ApplicationOut)
def get_application(application_id: uuid.UUID, session: SessionDep, _: Reader) -> object:
    return service.get_application(session=session, application_id=application_id)


@router.patch("/{application_id}", response_model=ApplicationOut, dependencies=[Idempotent])
def update_application(
    application_id: uuid.UUID, data: ApplicationUpdate, session: SessionDep, agent: HR
) -> object:
    return service.update_application(
        session=session, application_id=application_id, data=data, actor=agent.actor
    )


@router.post("/{application_id}/validate", response_model=ApplicationOut, dependencies=[Idempotent])
def validate_application(application_id: uuid.UUID, session: SessionDep, agent: HR) -> object:
    return service.validate_application(
        session=session, application_id=application_id, actor=agent.actor
    )


@router.post(
    "/{application_id}/request-changes", response_model=ApplicationOut, dependencies=[Idempotent]
)
def request_changes(
    application_id: uuid.UUID, data: ChangesRequest, session: SessionDep, agent: HR
) -> object:
    return service.request_changes(
        session=session, application_id=application_id, message=data.message, actor=agent.actor
    )


@router.post(
    "/{application_id}/propose-job", response_model=ApplicationOut, dependencies=[Idempotent]
)
def propose_job(
    application_id: uuid.UUID, data: JobProposal, session: SessionDep, agent: HR
) -> object:
    return service.propose_job(
        session=session,
        application_id=application_id,
        job_id=data.job_id,
        message=data.message,
        actor=agent.actor,
    )


@router.post(
    "/{application_id}/revoke-links", response_model=dict[str, int], dependencies=[Idempotent]
)
def revoke_links(application_id: uuid.UUID, session: SessionDep, agent: HR) -> object:
    """Revoke the candidate's unused links for this application."""
    revoked = service.revoke_links(
        session=session, application_id=application_id, actor=agent.actor
    )
    return {"revoked": revoked}


@router.post(
    "/{application_id}/mark-unavailable", response_model=ApplicationOut, dependencies=[Idempotent]
)
def mark_unavailable(
    application_id: uuid.UUID, data: Unavailability, session: SessionDep, agent: HR
) -> object:
    return service.mark_unavailable(
        session=session,
        application_id=application_id,
        until=data.until,
        reason=data.reason,
        actor=agent.actor,
    )


@router.post(
    "/{application_id}/mark-available", response_model=ApplicationOut, dependencies=[Idempotent]
)
def mark_available(application_id: uuid.UUID, session: SessionDep, agent: HR) -> object:
    return service.mark_available(session=session, application_id=application_id, actor=agent.actor)


@router.post(
    "/{application_id}/notes", status_code=201, response_model=NoteOut, dependencies=[Idempotent]
)
def add_note(application_id: uuid.UUID, data: NoteCreate, session: SessionDep, agent: HR) -> object:
    service.get_application(session=session, application_id=application_id)
    return notes.add_note(
        session=session, text=data.text, actor=agent.actor, application_id=application_id
    )


@router.get("/{application_id}/notes", response_model=dict[str, list[NoteOut]])
def list_notes(application_id: uuid.UUID, session: SessionDep, _: HR) -> object:
    service.get_application(session=session, application_id=application_id)
    return {"items": notes.list_notes(session=session, application_id=application_id)}


@router.post(
    "/{application_id}/cv", status_code=201, response_model=StoredFileOut, dependencies=[Idempotent]
)
def upload_cv(
    application_id: uuid.UUID, file: UploadFile, session: SessionDep, agent: HR
) -> object:
    return service.attach_cv(
        session=session,
        application_id=application_id,
        upload=file.file,
        filename=file.filename,
        actor=agent.actor,
    )


@router.get(
    "/{application_id}/cv",
    response_class=FileResponse,
    responses={200: {"description": "The CV, as uploaded", "content": binary(*MEDIA_TYPES)}},
)
def download_cv(application_id: uuid.UUID, session: SessionDep, _: HR) -> FileResponse:
    return download(service.get_cv(session=session, application_id=application_id))


@router.get("/{application_id}/attachments", response_model=dict[str, list[StoredFileOut]])
def list_attachments(application_id: uuid.UUID, session: SessionDep, _: HR) -> object:
    """The documents the candidate sent from their update page (`GET /attachments/{id}`)."""
    return {"items": service.attachments(session=session, application_id=application_id)}


@router.get("/{application_id}/history", response_model=HistoryOut)
def application_history(application_id: uuid.UUID, session: SessionDep, agent: Reader) -> object:
    entries = service.application_history(session=session, application_id=application_id)
    return {"items": visibility.history(entries, agent)}
