"""Job offers."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api.errors import Duplicate, NotFound
from services.api.jobs.schemas import JobCreate, JobUpdate
from services.api.pagination import Listing
from shared.models import Job, utcnow
from shared.workflow import JobStatus


def get_job(*, session: Session, job_id: uuid.UUID) -> Job:
    """The job, or NotFound."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


def create_job(*, session: Session, data: JobCreate) -> Job:
    """Create a job offer; its reference must be unique."""
    if session.scalar(select(Job.id).where(Job.reference == data.reference)):
        raise Duplicate(f"a job with reference '{data.reference}' already exists")
    job = Job(**data.model_dump())
    session.add(job)
    session.flush()
    return job


def update_job(*, session: Session, job_id: uuid.UUID, data: JobUpdate) -> Job:
    """Change the given fields of a job."""
    job = get_job(session=session, job_id=job_id)
    was = job.status
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(job, field, value)
    if job.status != was:
        job.closed_at = utcnow() if job.status == JobStatus.CLOSED else None
    session.flush()
    return job


def list_jobs(*, year: int | None, campaign: str | None, status: str | None) -> Listing:
    """The jobs matching the filters, newest first."""
    query = select(Job)
    if year is not None:
        query = query.where(Job.year == year)
    if campaign is not None:
        query = query.where(Job.campaign == campaign)
    if status is not None:
        query = query.where(Job.status == status)
    return Listing(query, (Job.created_at, Job.id), descending=True)
