"""What a candidate's link shows (GET, changes nothing) and does (POST, once)."""

from datetime import datetime
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api.candidate_pages import offer_pages, profile_pages, trial_pages
from services.api.candidate_pages.page import Page, gettext
from services.api.files import service as files
from shared import applications, history, loading
from shared.emails.texts import written_datetime
from shared.models import (
    Application,
    Candidate,
    CandidateToken,
    Job,
    LinkPurpose,
    StoredFile,
    utcnow,
)
from shared.settings import get_settings
from shared.workflow import ApplicationKind, ApplicationStatus, JobStatus

MAX_TEXT = 20_000


def problem_page(reason: str, language: str) -> Page:
    """The page for a link that cannot be used, with a status that says why."""
    _ = gettext(language)
    pages = {
        "invalid": (404, _("This link is not valid"), _("Please use the link from your email.")),
        "expired": (410, _("This link has expired"), _("Please contact our HR department.")),
        "revoked": (
            410,
            _("This link is no longer valid"),
            _("Please use the link from your most recent email, or contact our HR department."),
        ),
        "wrong_purpose": (
            400,
            _("This link cannot be used for this"),
            _("Please use the link from your email."),
        ),
    }
    status, outcome, detail = pages[reason]
    return Page(
        "outcome.html.j2",
        {"title": outcome, "outcome": outcome, "detail": detail},
        status=status,
        language=language,
    )


def unavailable_page(language: str) -> Page:
    """The page when the database does not answer: to try again later (503)."""
    _ = gettext(language)
    return Page(
        "outcome.html.j2",
        {
            "title": _("Temporarily unavailable"),
            "outcome": _("This page cannot be shown right now."),
            "detail": _("Please try again in a few minutes."),
        },
        status=503,
        language=language,
    )


def statement_page(language: str) -> Page:
    """The accessibility statement (the EU Web Accessibility Directive's), with the contacts."""
    _ = gettext(language)
    settings = get_settings()
    return Page(
        "accessibility.html.j2",
        {
            "title": _("Accessibility statement"),
            "contact": settings.accessibility_contact or settings.contact,
            "enforcement": settings.accessibility_enforcement,
        },
        language=language,
    )


def _when(moment: datetime, language: str) -> str:
    return written_datetime(moment, get_settings().default_timezone, language, zone=False)


def _outcome(token: CandidateToken, language: str) -> Page:
    """What a used link shows: what was done and when."""
    _ = gettext(language)
    assert token.used_at is not None
    when = _when(token.used_at, language)
    if token.purpose == LinkPurpose.UPDATE_APPLICATION:
        title = _("Your application")
        outcome = _("Your updated application was sent on %(when)s.") % {"when": when}
    else:
        title = _("Your application")
        outcome = _("Your application was received on %(when)s.") % {"when": when}
    return Page("outcome.html.j2", {"title": title, "outcome": outcome}, language=language)


def language_of(session: Session, token: CandidateToken) -> str:
    """The language of the candidate the link was sent to (all a trial page needs of them)."""
    language = session.scalar(select(Candidate.language).where(Candidate.id == token.candidate_id))
    assert language is not None
    return language


def _application(session: Session, token: CandidateToken) -> Application:
    application = session.get(Application, token.application_id, options=loading.APPLICATION)
    assert application is not None
    return application


def show(*, session: Session, token: CandidateToken, answer: str | None = None) -> Page:
    """The page of a link; a GET never changes anything (mail scanners open links)."""
    if token.participation_id is not None:  # its page loads the language with the participation
        return trial_pages.show(session, token, answer)
    language = language_of(session, token)
    if token.purpose == LinkPurpose.ANSWER_OFFER:
        return offer_pages.show(session, token, answer, language)
    if token.purpose == LinkPurpose.KEEP_PROFILE:
        return profile_pages.show(session, token, language)
    _ = gettext(language)
    if token.used_at is not None:
        return _outcome(token, language)
    application = _application(session, token)
    candidate = application.candidate
    if token.purpose == LinkPurpose.UPDATE_APPLICATION:
        if application.status != ApplicationStatus.CHANGES_REQUESTED:
            return _no_longer_waiting(language)
        return _update_page(application, token, language)
    job = session.get(Job, token.job_id)
    assert job is not None
    if job.status != JobStatus.OPEN:
        return _job_closed(language)
    return Page(
        "apply_to_job.html.j2",
        {
            "title": _("A post for you"),
            "candidate_name": candidate.full_name,
            "job_title": job.title,
            "job_reference": job.reference,
            "message": token.message or "",
        },
        language=language,
    )


def _update_page(
    application: Application,
    token: CandidateToken,
    language: str,
    form: dict[str, str] | None = None,
    refused: files.TooLarge | files.UnsupportedType | None = None,
) -> Page:
    """The form to update a returned application: what HR asked, the application's texts (or
    those just posted, with why the document was refused: a 400)."""
    _ = gettext(language)
    max_mb = f"{get_settings().max_upload_mb:g}"
    error = None
    if isinstance(refused, files.TooLarge):
        error = _("This file is too large: at most %(size)s MB.") % {"size": max_mb}
    elif refused is not None:
        error = _("This file cannot be accepted: please send a document of one of these types.")
    texts = form or {
        "cover_letter": application.cover_letter or "",
        "summary": str(application.profile.get("summary") or ""),
        "phone": application.candidate.phone or "",
    }
    return Page(
        "update_application.html.j2",
        {
            "title": _("Update your application"),
            "candidate_name": application.candidate.full_name,
            "message": token.message or "",
            "cover_letter": texts.get("cover_letter", ""),
            "summary": texts.get("summary", ""),
            "phone": texts.get("phone", ""),
            "max_mb": max_mb,
            "error": error,
        },
        status=400 if error else 200,
        language=language,
    )


def calendar(*, session: Session, token: CandidateToken, link: str) -> bytes | Page:
    """The calendar file of a booked or accepted trial (`link`: the page's own), or the page
    that says why there is none: 400 for a link not about a trial."""
    language = language_of(session, token)
    if token.participation_id is None:
        return problem_page("wrong_purpose", language)
    return trial_pages.calendar(session, token, link, language)


def _no_longer_waiting(language: str) -> Page:
    _ = gettext(language)
    outcome = _("This application is no longer waiting for changes.")
    detail = _("Our HR department has already taken it up.")
    return Page(
        "outcome.html.j2",
        {"title": _("Your application"), "outcome": outcome, "detail": detail},
        status=409,
        language=language,
    )


def _job_closed(language: str) -> Page:
    _ = gettext(language)
    outcome = _("This post is no longer open for applications.")
    return Page(
        "outcome.html.j2",
        {"title": _("A post for you"), "outcome": outcome},
        status=409,
        language=language,
    )


def act(
    *,
    session: Session,
    token: CandidateToken,
    form: dict[str, str],
    document: tuple[BinaryIO, str] | None = None,
) -> Page:
    """Do what the link is for, once; a repeated POST shows what was done. `document`: a
    file sent with an updated application (its content and name), checked as HR's uploads."""
    if form.get("action") != token.purpose:
        return problem_page("wrong_purpose", language_of(session, token))
    if token.participation_id is not None:  # its page loads the language with the participation
        return trial_pages.act(session, token, form)
    language = language_of(session, token)
    if token.purpose == LinkPurpose.ANSWER_OFFER:
        return offer_pages.act(session, token, form, language)
    if token.purpose == LinkPurpose.KEEP_PROFILE:
        return profile_pages.act(session, token, form, language)
    if token.used_at is not None:
        return _outcome(token, language)
    application = _application(session, token)
    actor = f"candidate:{application.candidate_id}"
    if token.purpose == LinkPurpose.UPDATE_APPLICATION:
        if application.status != ApplicationStatus.CHANGES_REQUESTED:
            return _no_longer_waiting(language)
        stored = None
        if document is not None:
            try:
                stored = _store_document(session, application, document, actor)
            except (files.TooLarge, files.UnsupportedType) as refused:
                return _update_page(application, token, language, form, refused)
        _resubmit(session, application, form, actor, stored)
    else:
        job = session.get(Job, token.job_id)
        assert job is not None
        if job.status != JobStatus.OPEN:
            return _job_closed(language)
        token.result_application_id = _apply(session, application, job, form, actor).id
    token.used_at = utcnow()
    session.flush()
    return _outcome(token, language)


def _store_document(
    session: Session, application: Application, document: tuple[BinaryIO, str], actor: str
) -> StoredFile:
    """The document the candidate sent, stored as an attachment of the application."""
    upload, filename = document
    return files.store(
        session=session,
        upload=upload,
        filename=filename,
        purpose="attachment",
        uploaded_by=actor,
        application_id=application.id,
        dossier_id=application.dossier_id,
    )


def _resubmit(
    session: Session,
    application: Application,
    form: dict[str, str],
    actor: str,
    document: StoredFile | None,
) -> None:
    sent = {"file_id": str(document.id), "filename": document.filename} if document else {}
    applications.move(
        session, application, "resubmit", actor=actor, event="application_resubmitted", **sent
    )
    application.candidate_acted_at = utcnow()
    application.cover_letter = form.get("cover_letter", "")[:MAX_TEXT] or None
    summary = form.get("summary", "")[:5000]
    application.profile = {**application.profile, "summary": summary}
    phone = form.get("phone", "")[:50].strip()
    if phone:
        application.candidate.phone = phone


def _apply(
    session: Session, proposed: Application, job: Job, form: dict[str, str], actor: str
) -> Application:
    application = Application(
        kind=ApplicationKind.SPECIFIC,
        job_id=job.id,
        candidate_id=proposed.candidate_id,
        cover_letter=form.get("cover_letter", "")[:MAX_TEXT] or None,
        profile=dict(proposed.profile),
        proposed_by_application_id=proposed.id,
    )
    session.add(application)
    session.flush()
    for application_id in (application.id, proposed.id):
        history.record(
            session,
            actor=actor,
            action="applied_to_proposed_job",
            application_id=application_id,
            after={"job_id": str(job.id), "application_id": str(application.id)},
        )
    return application
