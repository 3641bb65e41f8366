"""The CV bank: applications and their validation into dossiers."""

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from services.api.applications.schemas import ApplicationCreate
from services.api.candidates import service as candidates
from services.api.candidates.service import create_candidate, get_candidate
from services.api.errors import Conflict, NotFound
from services.api.jobs.service import get_job
from shared import history
from shared.messages import queue_message
from shared.models import Application, Dossier
from shared.workflow import DossierStatus, application_transition

SUMMARY_LENGTH = 600


def get_application(*, session: Session, application_id: uuid.UUID) -> Application:
    """The application, or NotFound."""
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound(f"application {application_id} not found")
    return application


def submit_application(*, session: Session, data: ApplicationCreate, actor: str) -> Application:
    """Record an application received (for an existing or a new candidate)."""
    if data.candidate is not None:
        candidate = create_candidate(session=session, data=data.candidate)
    else:
        assert data.candidate_id is not None  # the schema guarantees one of the two
        candidate = get_candidate(session=session, candidate_id=data.candidate_id)
    if data.job_id is not None:
        job = get_job(session=session, job_id=data.job_id)
        if job.status != "open":
            raise Conflict(f"job '{job.reference}' is {job.status}", state=job.status)
    application = Application(
        kind=data.kind,
        job_id=data.job_id,
        candidate=candidate,
        cover_letter=data.cover_letter,
        profile=data.profile,
    )
    session.add(application)
    session.flush()
    history.record(
        session,
        actor=actor,
        action="application_submitted",
        application_id=application.id,
        after={"kind": application.kind, "status": application.status},
    )
    return application


def list_applications(
    *,
    kind: str | None,
    job_id: uuid.UUID | None,
    status: str | None,
    q: str | None,
    newest_first: bool,
) -> Select[Any]:
    """The query for the CV bank with its filters."""
    order = Application.created_at.desc() if newest_first else Application.created_at
    query = select(Application).join(Application.candidate).order_by(order, Application.id)
    if kind:
        query = query.where(Application.kind == kind)
    if job_id:
        query = query.where(Application.job_id == job_id)
    if status:
        query = query.where(Application.status == status)
    if q:
        query = query.where(candidates.matches(q))
    return query


def summarise(application: Application) -> str:
    """The dossier's summary: the profile's summary, else the start of the cover letter."""
    text = str(application.profile.get("summary") or application.cover_letter or "")
    return text[:SUMMARY_LENGTH]


def validate_application(*, session: Session, application_id: uuid.UUID, actor: str) -> Application:
    """Validate an application: a specific one becomes a dossier; the candidate is told."""
    application = get_application(session=session, application_id=application_id)
    before = application.status
    application.status = application_transition(before, "validate")
    dossier = None
    if application.kind == "specific":
        assert application.job_id is not None
        dossier = Dossier(
            id=uuid.uuid4(),
            application=application,
            candidate_id=application.candidate_id,
            job_id=application.job_id,
            status=DossierStatus.OPEN,
            applied_at=application.created_at,
            summary=summarise(application),
        )
        session.add(dossier)
    session.flush()
    history.record(
        session,
        actor=actor,
        action="application_validated",
        application_id=application.id,
        dossier_id=dossier.id if dossier else None,
        before={"status": before},
        after={"status": application.status, "dossier_id": str(dossier.id) if dossier else None},
    )
    job = application.job
    queue_message(
        session,
        kind="application_validated",
        idempotency_key=f"application_validated:{application.id}",
        candidate=application.candidate,
        context={
            "candidate_name": application.candidate.full_name,
            "job_title": job.title if job else None,
            "job_reference": job.reference if job else None,
        },
        actor=actor,
        dossier_id=dossier.id if dossier else None,
        application_id=application.id,
    )
    return application
