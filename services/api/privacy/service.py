"""A person's export (GDPR Art. 15 and 20), their erasure (Art. 17), and legal holds."""

import io
import json
import uuid
import zipfile
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from services.api.candidates.service import get_candidate, refuse_anonymised
from services.api.dossiers.service import get_dossier
from services.api.errors import Conflict
from services.api.files.service import path_of
from services.api.visibility import HR_TEXT
from shared import history, privacy
from shared.models import (
    Application,
    Candidate,
    Dossier,
    HistoryEntry,
    Message,
    Note,
    Participation,
    StoredFile,
    utcnow,
)


def erase(*, session: Session, candidate_id: uuid.UUID, reason: str, actor: str) -> Candidate:
    """Anonymise the person now, unless a dossier of theirs is held or goes to the personnel
    file (409 naming which)."""
    candidate = get_candidate(session=session, candidate_id=candidate_id)
    refuse_anonymised(candidate)
    dossiers = session.scalars(
        select(Dossier).where(Dossier.candidate_id == candidate.id).with_for_update(of=Dossier)
    ).all()
    refused = privacy.refusal(dossiers)
    if refused is not None:
        state, detail = refused
        raise Conflict(f"the person cannot be erased: {detail}", state=state)
    privacy.anonymise(session, candidate_id=candidate.id, actor=actor, reason=reason)
    return get_candidate(session=session, candidate_id=candidate_id)


def _live_dossier(session: Session, dossier_id: uuid.UUID) -> Dossier:
    dossier = get_dossier(session=session, dossier_id=dossier_id)
    application = session.get(Application, dossier.application_id)
    if application is not None and application.anonymised_at is not None:
        raise Conflict(f"dossier {dossier.id} was anonymised", state="anonymised")
    return dossier


def place_hold(*, session: Session, dossier_id: uuid.UUID, reason: str, actor: str) -> Dossier:
    """Put the dossier under a legal hold (or change the hold's reason)."""
    dossier = _live_dossier(session, dossier_id)
    before = {"reason": dossier.legal_hold_reason} if dossier.legal_hold_since else None
    dossier.legal_hold_reason = reason
    dossier.legal_hold_since = dossier.legal_hold_since or utcnow()
    history.record(
        session,
        actor=actor,
        action="legal_hold_placed",
        dossier_id=dossier.id,
        before=before,
        after={"reason": reason},
    )
    session.flush()
    return dossier


def lift_hold(*, session: Session, dossier_id: uuid.UUID, actor: str) -> Dossier:
    """Lift the dossier's legal hold (409 `not_held` without one)."""
    dossier = _live_dossier(session, dossier_id)
    if dossier.legal_hold_since is None:
        raise Conflict(f"dossier {dossier.id} is under no legal hold", state="not_held")
    history.record(
        session,
        actor=actor,
        action="legal_hold_lifted",
        dossier_id=dossier.id,
        before={"reason": dossier.legal_hold_reason},
    )
    dossier.legal_hold_reason = None
    dossier.legal_hold_since = None
    session.flush()
    return dossier


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def _without_hr_text(values: dict[str, Any] | None, include: bool) -> dict[str, Any] | None:
    if values is None or include:
        return values
    return {k: v for k, v in values.items() if k not in HR_TEXT}


def export(
    *, session: Session, candidate_id: uuid.UUID, include_notes: bool, actor: str
) -> tuple[bytes, str]:
    """The ZIP of everything about the person, and its file name; the export is recorded in
    the history of each of their applications."""
    candidate = get_candidate(session=session, candidate_id=candidate_id)
    refuse_anonymised(candidate)
    applications = session.scalars(
        select(Application)
        .where(Application.candidate_id == candidate.id)
        .order_by(Application.created_at)
        .options(
            joinedload(Application.job),
            selectinload(Application.dossier)
            .selectinload(Dossier.participations)
            .joinedload(Participation.trial),
        )
    ).all()
    application_ids = [a.id for a in applications]
    dossier_ids = [a.dossier.id for a in applications if a.dossier is not None]
    mine = or_(
        HistoryEntry.application_id.in_(application_ids), HistoryEntry.dossier_id.in_(dossier_ids)
    )
    files = session.scalars(
        select(StoredFile)
        .where(
            or_(
                StoredFile.application_id.in_(application_ids),
                StoredFile.dossier_id.in_(dossier_ids),
            )
        )
        .order_by(StoredFile.created_at)
    ).all()
    file_names = {stored.id: f"files/{n}-{stored.filename}" for n, stored in enumerate(files, 1)}
    person: dict[str, Any] = {
        "exported_at": _iso(utcnow()),
        "candidate": {
            "id": str(candidate.id),
            "first_name": candidate.first_name,
            "last_name": candidate.last_name,
            "email": candidate.email,
            "phone": candidate.phone,
            "language": candidate.language,
            "created_at": _iso(candidate.created_at),
        },
        "applications": [_application(a, file_names) for a in applications],
        "messages": [
            {
                "kind": m.kind,
                "subject": m.subject,
                "to": m.to_address,
                "status": m.status,
                "queued_at": _iso(m.created_at),
                "sent_at": _iso(m.sent_at),
            }
            for m in session.scalars(
                select(Message)
                .where(Message.candidate_id == candidate.id)
                .order_by(Message.created_at)
            )
        ],
        "history": [
            {
                "at": _iso(e.at),
                "action": e.action,
                "application_id": str(e.application_id) if e.application_id else None,
                "dossier_id": str(e.dossier_id) if e.dossier_id else None,
                "before": _without_hr_text(e.before, include_notes),
                "after": _without_hr_text(e.after, include_notes),
            }
            for e in session.scalars(select(HistoryEntry).where(mine).order_by(HistoryEntry.id))
        ],
        "files": [
            {
                "name": file_names[s.id],
                "filename": s.filename,
                "purpose": s.purpose,
                "content_type": s.content_type,
                "size": s.size,
                "received_at": _iso(s.created_at),
            }
            for s in files
        ],
    }
    if include_notes:
        person["notes"] = [
            {
                "at": _iso(n.created_at),
                "author": n.author,
                "text": n.text,
                "application_id": str(n.application_id) if n.application_id else None,
                "dossier_id": str(n.dossier_id) if n.dossier_id else None,
            }
            for n in session.scalars(
                select(Note)
                .where(
                    or_(Note.application_id.in_(application_ids), Note.dossier_id.in_(dossier_ids))
                )
                .order_by(Note.created_at)
            )
        ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("person.json", json.dumps(person, ensure_ascii=False, indent=2))
        for stored in files:
            archive.write(path_of(stored), file_names[stored.id])
    for application in applications:
        history.record(
            session,
            actor=actor,
            action="exported",
            application_id=application.id,
            after={"include_notes": include_notes},
        )
    return buffer.getvalue(), f"recrue-export-{candidate.id}.zip"


def _application(application: Application, file_names: dict[uuid.UUID, str]) -> dict[str, Any]:
    dossier = application.dossier
    return {
        "id": str(application.id),
        "kind": application.kind,
        "job": (
            {"title": application.job.title, "reference": application.job.reference}
            if application.job
            else None
        ),
        "status": application.status,
        "submitted_at": _iso(application.created_at),
        "cover_letter": application.cover_letter,
        "profile": application.profile,
        "cv": file_names.get(application.cv_file_id) if application.cv_file_id else None,
        "dossier": None if dossier is None else _dossier(dossier),
    }


def _dossier(dossier: Dossier) -> dict[str, Any]:
    """The dossier as the candidate may see it: decisions and results, scores only where HR
    chose to tell them."""
    return {
        "id": str(dossier.id),
        "status": dossier.status,
        "applied_at": _iso(dossier.applied_at),
        "summary": dossier.summary,
        "reserve_rank": dossier.reserve_rank,
        "started_on": _iso(dossier.started_on),
        "left_on": _iso(dossier.left_on),
        "participations": [
            {
                "trial": p.trial.title,
                "kind": p.trial.kind,
                "starts_at": _iso(p.starts_at or p.trial.starts_at),
                "status": p.status,
                "answered_at": _iso(p.answered_at),
                "result": None
                if p.result_recorded_at is None
                else {
                    "present": p.present,
                    "passed": p.passed,
                    "score": str(p.score) if p.communicate and p.score is not None else None,
                    "recorded_at": _iso(p.result_recorded_at),
                },
            }
            for p in dossier.participations
        ],
    }
