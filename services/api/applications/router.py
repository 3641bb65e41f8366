import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from services.api.applications import service
from services.api.applications.schemas import (
    ApplicationCreate,
    ApplicationKind,
    ApplicationOut,
    ApplicationStatusName,
)
from services.api.deps import HR, Reader, SessionDep
from services.api.pagination import Page, PageParams, page_params, paginate

router = APIRouter(prefix="/applications", tags=["applications"])


@router.post("", status_code=201, response_model=ApplicationOut)
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


@router.post("/{application_id}/validate", response_model=ApplicationOut)
def validate_application(application_id: uuid.UUID, session: SessionDep, agent: HR) -> object:
    return service.validate_application(
        session=session, application_id=application_id, actor=agent.actor
    )
