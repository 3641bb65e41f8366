"""The CV bank: applications, their validation into dossiers, and what HR does with them."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, contains_eager, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from services.api.applications.schemas import ApplicationCreate, ApplicationUpdate
from services.api.candidates import service as candidates
from services.api.candidates.service import create_candidate, get_candidate, refuse_anonymised
from services.api.errors import Conflict, Duplicate, NotFound
from services.api.files import service as files
from services.api.jobs.service import get_job
from services.api.pagination import Listing
from shared import applications, availability, history, links, loading
from shared.messages import notify
from shared.models import (
    Application,
    Dossier,
    FilePurpose,
    HistoryEntry,
    Job,
    LinkPurpose,
    StoredFile,
)
from shared.settings import get_settings
from shared.workflow import (
    APPLICATION_OPEN_STATES,
    ApplicationKind,
    ApplicationStatus,
    DossierStatus,
    JobStatus,
    TransitionRefused,
    application_transition,
)

SUMMARY_LENGTH = 600


def get_application(*, session: Session, application_id: uuid.UUID) -> Application:
    """The application, or NotFound."""
    application = session.get(Application, application_id, options=loading.APPLICATION)
    if application is None:
        raise NotFound(f"application {application_id} not found")
    return application


def _refuse_second_application(session: Session, candidate_id: uuid.UUID, job: Job) -> None:
    """One application per candidate and job, whatever became of it: 409 naming it."""
    already = session.scalar(
        select(Application.id).where(
            Application.candidate_id == candidate_id, Application.job_id == job.id
        )
    )
    if already is not None:
        raise Duplicate(
            f"the candidate already applied to job '{job.reference}'", application_id=already
        )


def submit_application(*, session: Session, data: ApplicationCreate, actor: str) -> Application:
    """Record an application received (for an existing or a new candidate)."""
    if data.candidate is not None:
        candidate = create_candidate(session=session, data=data.candidate)
    else:
        assert data.candidate_id is not None  # the schema guarantees one of the two
        candidate = get_candidate(session=session, candidate_id=data.candidate_id)
        refuse_anonymised(candidate)
    if data.job_id is not None:
        job = get_job(session=session, job_id=data.job_id)
        if job.status != JobStatus.OPEN:
            raise Conflict(f"job '{job.reference}' is {job.status}", state=job.status)
        _refuse_second_application(session, candidate.id, job)
    application = Application(
        kind=data.kind,
        job_id=data.job_id,
        candidate=candidate,
        cover_letter=data.cover_letter,
        profile=data.profile,
    )
    session.add(application)
    session.flush()
    set_committed_value(application, "dossier", None)  # a new application has none yet
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
) -> Listing:
    """The CV bank with its filters, by submission time."""
    query = (
        select(Application)
        .join(Application.candidate)
        .options(contains_eager(Application.candidate), selectinload(Application.dossier))
    )
    if kind:
        query = query.where(Application.kind == kind)
    if job_id:
        query = query.where(Application.job_id == job_id)
    if status:
        query = query.where(Application.status == status)
    if q:
        query = query.where(candidates.matches(q))
    return Listing(query, (Application.created_at, Application.id), descending=newest_first)


def summarise(application: Application) -> str:
    """The dossier's summary: the profile's summary, else the start of the cover letter."""
    text = str(application.profile.get("summary") or application.cover_letter or "")
    return text[:SUMMARY_LENGTH]


def validate_application(*, session: Session, application_id: uuid.UUID, actor: str) -> Application:
    """Validate an application: a specific one becomes a dossier; the candidate is told."""
    application = get_application(session=session, application_id=application_id)
    application_transition(application.status, "validate")  # refused before a dossier is made
    dossier = None
    if application.kind == ApplicationKind.SPECIFIC:
        assert application.job_id is not None
        dossier = Dossier(
            id=uuid.uuid4(),
            application=application,
            candidate_id=application.candidate_id,
            job_id=application.job_id,
            # Reviewed first where the administration accepts dossiers for the post.
            status=(
                DossierStatus.UNDER_REVIEW if get_settings().dossier_review else DossierStatus.OPEN
            ),
            applied_at=application.created_at,
            summary=summarise(application),
        )
        session.add(dossier)
    session.flush()
    applications.move(
        session,
        application,
        "validate",
        actor=actor,
        event="application_validated",
        dossier_id=str(dossier.id) if dossier else None,
    )
    job = application.job
    notify(
        session,
        "application_validated",
        application,
        context={"job_reference": job.reference if job else None},
        actor=actor,
        dossier_id=dossier.id if dossier else None,
    )
    return application


def _snapshot(application: Application) -> dict[str, Any]:
    return {
        "status": application.status,
        "cover_letter": application.cover_letter,
        "profile": application.profile,
    }


def update_application(
    *, session: Session, application_id: uuid.UUID, data: ApplicationUpdate, actor: str
) -> Application:
    """Edit an application (not once rejected); the history keeps before and after."""
    application = get_application(session=session, application_id=application_id)
    if application.status not in APPLICATION_OPEN_STATES:
        raise TransitionRefused("application", application.status, "edit")
    before = _snapshot(application)
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(application, field, value)
    session.flush()
    history.record(
        session,
        actor=actor,
        action="application_edited",
        application_id=application.id,
        dossier_id=application.dossier_id,
        before=before,
        after=_snapshot(application),
    )
    return application


def request_changes(
    *, session: Session, application_id: uuid.UUID, message: str, actor: str
) -> Application:
    """Return the application to the candidate with a link to a page to update and resubmit."""
    application = get_application(session=session, application_id=application_id)
    applications.move(
        session,
        application,
        "request_changes",
        actor=actor,
        event="changes_requested",
        message=message,
    )
    _, signed = links.issue(
        session,
        links.new_link(
            purpose=LinkPurpose.UPDATE_APPLICATION,
            candidate_id=application.candidate_id,
            application_id=application.id,
            message=message,
        ),
    )
    session.flush()
    notify(
        session,
        "changes_requested",
        application,
        idempotency_key=f"changes_requested:{application.id}:{uuid.uuid4()}",
        context={"message": message, "link": links.url(signed)},
        actor=actor,
    )
    return application


def propose_job(
    *,
    session: Session,
    application_id: uuid.UUID,
    job_id: uuid.UUID,
    message: str | None,
    actor: str,
) -> Application:
    """Email the candidate a job and a link to apply to it."""
    application = get_application(session=session, application_id=application_id)
    if application.status not in APPLICATION_OPEN_STATES:
        raise TransitionRefused("application", application.status, "propose a job to")
    job = get_job(session=session, job_id=job_id)
    if job.status != JobStatus.OPEN:
        raise Conflict(f"job '{job.reference}' is {job.status}", state=job.status)
    _refuse_second_application(session, application.candidate_id, job)
    token, signed = links.issue(
        session,
        links.new_link(
            purpose=LinkPurpose.APPLY_TO_JOB,
            candidate_id=application.candidate_id,
            application_id=application.id,
            job_id=job.id,
            message=message,
            expires_at=job.closes_at,
        ),
    )
    session.flush()
    history.record(
        session,
        actor=actor,
        action="job_proposed",
        application_id=application.id,
        after={"job_id": str(job.id), "job_reference": job.reference, "message": message},
    )
    notify(
        session,
        "job_proposed",
        application,
        # Not the link's id: with it and SECRET_KEY, a link can be made (and keys are shown).
        idempotency_key=f"job_proposed:{application.id}:{job.id}:{uuid.uuid4()}",
        context={
            "message": message,
            "job_title": job.title,
            "job_reference": job.reference,
            "link": links.url(signed),
        },
        actor=actor,
    )
    return application


def revoke_links(*, session: Session, application_id: uuid.UUID, actor: str) -> int:
    """Revoke the candidate links of an application not used yet (e.g. sent to a wrong address)."""
    application = get_application(session=session, application_id=application_id)
    revoked = links.revoke_open(session=session, application_id=application.id)
    history.record(
        session,
        actor=actor,
        action="candidate_links_revoked",
        application_id=application.id,
        after={"revoked": revoked},
    )
    return revoked


def mark_unavailable(
    *,
    session: Session,
    application_id: uuid.UUID,
    until: datetime | None,
    reason: str | None,
    actor: str,
) -> Application:
    """Set the application aside, until a date (the scheduler brings it back) or until HR does."""
    application = get_application(session=session, application_id=application_id)
    application.status_before_unavailable = applications.move(
        session,
        application,
        "mark_unavailable",
        actor=actor,
        event="marked_unavailable",
        until=until.isoformat() if until else None,
        reason=reason,
    )
    application.unavailable_until = until
    application.unavailable_reason = reason
    session.flush()
    return application


def mark_available(*, session: Session, application_id: uuid.UUID, actor: str) -> Application:
    """End a temporary unavailability: the application returns to where it was."""
    application = get_application(session=session, application_id=application_id)
    if application.status != ApplicationStatus.UNAVAILABLE:
        raise TransitionRefused("application", application.status, "mark_available")
    availability.end_unavailability(session=session, application=application, actor=actor)
    return application


def attach_cv(
    *,
    session: Session,
    application_id: uuid.UUID,
    upload: BinaryIO,
    filename: str | None,
    actor: str,
) -> StoredFile:
    """Upload or replace the application's CV."""
    application = get_application(session=session, application_id=application_id)
    previous = _cv(session, application)
    stored = files.store(
        session=session,
        upload=upload,
        filename=filename,
        purpose=FilePurpose.CV,
        uploaded_by=actor,
        application_id=application.id,
    )
    application.cv_file_id = stored.id
    session.flush()
    history.record(
        session,
        actor=actor,
        action="cv_replaced" if previous else "cv_uploaded",
        application_id=application.id,
        dossier_id=application.dossier_id,
        before={"file_id": str(previous.id), "filename": previous.filename} if previous else None,
        after={"file_id": str(stored.id), "filename": stored.filename, "size": stored.size},
    )
    return stored


def get_cv(*, session: Session, application_id: uuid.UUID) -> StoredFile:
    """The application's CV, or NotFound."""
    cv = _cv(session, get_application(session=session, application_id=application_id))
    if cv is None:
        raise NotFound(f"application {application_id} has no CV")
    return cv


def _cv(session: Session, application: Application) -> StoredFile | None:
    return session.get(StoredFile, application.cv_file_id) if application.cv_file_id else None


def attachments(*, session: Session, application_id: uuid.UUID) -> Sequence[StoredFile]:
    """The documents the candidate sent with their updated application, oldest first
    (downloaded through `GET /attachments/{file_id}`)."""
    application = get_application(session=session, application_id=application_id)
    return session.scalars(
        select(StoredFile)
        .where(StoredFile.application_id == application.id, StoredFile.purpose == "attachment")
        .order_by(StoredFile.created_at, StoredFile.id)
    ).all()


def application_history(*, session: Session, application_id: uuid.UUID) -> Sequence[HistoryEntry]:
    """The application's timeline, with its dossier's once validated, in order."""
    application = get_application(session=session, application_id=application_id)
    where = HistoryEntry.application_id == application.id
    if application.dossier_id is not None:
        where = or_(where, HistoryEntry.dossier_id == application.dossier_id)
    return session.scalars(select(HistoryEntry).where(where).order_by(HistoryEntry.id)).all()
