"""Dossiers: one candidate's file for one job."""

import uuid
from collections.abc import Sequence
from typing import Any, BinaryIO

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, contains_eager

from services.api import search
from services.api.auth import Agent, only_own_trials
from services.api.candidates import service as candidates
from services.api.errors import Forbidden, NotFound
from services.api.files import service as files
from services.api.pagination import Listing
from shared import dossiers, history, loading, messages
from shared.models import (
    Dossier,
    FilePurpose,
    HistoryEntry,
    Job,
    Participation,
    StoredFile,
    TrialExaminer,
)


def _assigned_to(examiner_id: uuid.UUID | None) -> Select[Any]:
    """The dossiers invited to a trial this examiner is assigned to."""
    return (
        select(Participation.dossier_id)
        .join(TrialExaminer, TrialExaminer.trial_id == Participation.trial_id)
        .where(TrialExaminer.person_id == examiner_id)
    )


def get_dossier(*, session: Session, dossier_id: uuid.UUID, agent: Agent | None = None) -> Dossier:
    """The dossier, or NotFound; an examiner sees only the dossiers of their trials."""
    dossier = session.get(Dossier, dossier_id, options=loading.DOSSIER)
    if dossier is None:
        raise NotFound(f"dossier {dossier_id} not found")
    if agent is not None and only_own_trials(agent):
        assigned = session.scalar(
            _assigned_to(agent.person_id).where(Participation.dossier_id == dossier.id)
        )
        if assigned is None:
            raise Forbidden("this dossier is not in a trial assigned to you")
    return dossier


def list_dossiers(
    *,
    agent: Agent,
    job_id: uuid.UUID | None,
    year: int | None,
    campaign: str | None,
    status: str | None,
    q: str | None,
) -> Listing:
    """The dossiers matching the filters, by job then application date."""
    query = (
        select(Dossier)
        .join(Dossier.job)
        .join(Dossier.candidate)
        .options(
            contains_eager(Dossier.job),
            contains_eager(Dossier.candidate),
            loading.PARTICIPATIONS_OF_DOSSIER,
        )
    )
    if job_id:
        query = query.where(Dossier.job_id == job_id)
    if year is not None:
        query = query.where(Job.year == year)
    if campaign:
        query = query.where(Job.campaign == campaign)
    if status:
        query = query.where(Dossier.status == status)
    if q:
        query = query.where(or_(candidates.matches(q), search.contains(Job.title, q)))
    if only_own_trials(agent):
        query = query.where(Dossier.id.in_(_assigned_to(agent.person_id)))
    return Listing(query, (Job.reference, Dossier.applied_at, Dossier.id))


def summary_by_job(
    *, session: Session, agent: Agent, year: int | None, campaign: str | None
) -> list[dict[str, Any]]:
    """Per job: how many dossiers, in total and per status."""
    query = (
        select(Job, Dossier.status, func.count(Dossier.id))
        .join(Dossier, Dossier.job_id == Job.id)
        .group_by(Job.id, Dossier.status)
        .order_by(Job.reference)
    )
    if year is not None:
        query = query.where(Job.year == year)
    if campaign:
        query = query.where(Job.campaign == campaign)
    if only_own_trials(agent):
        query = query.where(Dossier.id.in_(_assigned_to(agent.person_id)))
    groups: dict[uuid.UUID, dict[str, Any]] = {}
    for job, status, count in session.execute(query):
        group = groups.setdefault(job.id, {"job": job, "total": 0, "by_status": {}})
        group["total"] += count
        group["by_status"][status] = count
    return list(groups.values())


def dossier_history(
    *, session: Session, dossier_id: uuid.UUID, agent: Agent | None = None
) -> Sequence[HistoryEntry]:
    """The dossier's timeline, from the application it came from, in order."""
    dossier = get_dossier(session=session, dossier_id=dossier_id, agent=agent)
    return session.scalars(
        select(HistoryEntry)
        .where(
            or_(
                HistoryEntry.dossier_id == dossier.id,
                HistoryEntry.application_id == dossier.application_id,
            )
        )
        .order_by(HistoryEntry.id)
    ).all()


def reject(
    *, session: Session, dossier_id: uuid.UUID, reason: str, notify: bool, actor: str
) -> Dossier:
    """Reject the dossier for the post, telling the candidate if HR chooses to."""
    dossier = get_dossier(session=session, dossier_id=dossier_id)
    dossiers.move(
        session,
        dossier,
        "reject",
        actor=actor,
        event="dossier_rejected",
        reason=reason,
        notified=notify,
    )
    if notify:
        messages.notify(
            session, "dossier_rejected", dossier, actor=actor, context={"reason": reason}
        )
    return dossier


def admit(
    *, session: Session, dossier_id: uuid.UUID, note: str | None, notify: bool, actor: str
) -> Dossier:
    """Accept a dossier under review for the post (DOSSIER_REVIEW): it becomes eligible for
    the trials; the candidate is told if HR chooses to."""
    dossier = get_dossier(session=session, dossier_id=dossier_id)
    dossiers.move(
        session, dossier, "admit", actor=actor, event="dossier_admitted", note=note, notified=notify
    )
    if notify:
        messages.notify(session, "dossier_admitted", dossier, actor=actor)
    return dossier


def withdraw(*, session: Session, dossier_id: uuid.UUID, reason: str | None, actor: str) -> Dossier:
    """Record that the candidate withdrew."""
    dossier = get_dossier(session=session, dossier_id=dossier_id)
    dossiers.move(
        session, dossier, "withdraw", actor=actor, event="dossier_withdrawn", reason=reason
    )
    return dossier


def attach(
    *, session: Session, dossier_id: uuid.UUID, upload: BinaryIO, filename: str | None, actor: str
) -> StoredFile:
    """Attach a file to the dossier (HR only)."""
    dossier = get_dossier(session=session, dossier_id=dossier_id)
    stored = files.store(
        session=session,
        upload=upload,
        filename=filename,
        purpose=FilePurpose.ATTACHMENT,
        uploaded_by=actor,
        dossier_id=dossier.id,
    )
    history.record(
        session,
        actor=actor,
        action="attachment_added",
        dossier_id=dossier.id,
        after={"file_id": str(stored.id), "filename": stored.filename, "size": stored.size},
    )
    return stored


def attachments(*, session: Session, dossier_id: uuid.UUID) -> Sequence[StoredFile]:
    """The dossier's attachments, oldest first."""
    get_dossier(session=session, dossier_id=dossier_id)
    return session.scalars(
        select(StoredFile)
        .where(StoredFile.dossier_id == dossier_id, StoredFile.purpose == FilePurpose.ATTACHMENT)
        .order_by(StoredFile.created_at, StoredFile.id)
    ).all()
