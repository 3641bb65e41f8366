import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.api.deps import HR, Reader, SessionDep
from services.api.idempotency import Idempotent
from services.api.jobs import service
from services.api.jobs.schemas import JobCreate, JobOut, JobStatus, JobUpdate
from services.api.pagination import Page, PageParams, page_params, paginate
from services.api.schemas import CampaignQuery, YearQuery

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.post("", status_code=201, response_model=JobOut, dependencies=[Idempotent])
def create_job(data: JobCreate, session: SessionDep, _: HR) -> object:
    return service.create_job(session=session, data=data)


@router.get("", response_model=Page[JobOut])
def list_jobs(
    session: SessionDep,
    _: Reader,
    page: Annotated[PageParams, Depends(page_params)],
    year: YearQuery = None,
    campaign: CampaignQuery = None,
    status: Annotated[JobStatus | None, Query()] = None,
) -> object:
    query = service.list_jobs(year=year, campaign=campaign, status=status)
    return paginate(session, query, page)


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: uuid.UUID, session: SessionDep, _: Reader) -> object:
    return service.get_job(session=session, job_id=job_id)


@router.patch("/{job_id}", response_model=JobOut, dependencies=[Idempotent])
def update_job(job_id: uuid.UUID, data: JobUpdate, session: SessionDep, _: HR) -> object:
    return service.update_job(session=session, job_id=job_id, data=data)
