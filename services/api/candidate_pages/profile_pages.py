"""The page of a CV bank renewal: the candidate keeps their profile another period, or has it
deleted now (the same anonymisation as the sweeps)."""

from sqlalchemy.orm import Session, joinedload

from services.api.candidate_pages.page import Page, gettext
from shared import history, privacy
from shared.emails.texts import written_datetime
from shared.models import Application, CandidateToken, utcnow
from shared.retention import profile_kept_until
from shared.settings import get_settings


def _application(session: Session, token: CandidateToken) -> Application:
    application = session.get(
        Application, token.application_id, options=[joinedload(Application.candidate)]
    )
    assert application is not None
    return application


def _date(application: Application, language: str) -> str:
    moment = profile_kept_until(application)
    return written_datetime(moment, get_settings().default_timezone, language, zone=False)


def _kept(application: Application, language: str) -> Page:
    _ = gettext(language)
    outcome = _("Your profile is kept until %(date)s.") % {"date": _date(application, language)}
    return Page(
        "outcome.html.j2", {"title": _("Your profile"), "outcome": outcome}, language=language
    )


def show(session: Session, token: CandidateToken, language: str) -> Page:
    """What is kept, until when, and the two choices (a GET changes nothing)."""
    application = _application(session, token)
    if token.used_at is not None:
        return _kept(application, language)
    _ = gettext(language)
    candidate = application.candidate
    kept = [candidate.full_name, candidate.email]
    if candidate.phone:
        kept.append(candidate.phone)
    if application.cover_letter:
        kept.append(_("your cover letter"))
    if application.profile.get("summary"):
        kept.append(_("the summary of your profile"))
    if application.cv_file_id is not None:
        kept.append(_("your CV"))
    return Page(
        "keep_profile.html.j2",
        {
            "title": _("Your profile"),
            "candidate_name": candidate.full_name,
            "kept_until": _date(application, language),
            "months": get_settings().cv_bank_months,
            "kept": kept,
        },
        language=language,
    )


def act(session: Session, token: CandidateToken, form: dict[str, str], language: str) -> Page:
    """Keep the profile another CV_BANK_MONTHS, or delete it now; once."""
    application = _application(session, token)
    if token.used_at is not None:
        return _kept(application, language)
    _ = gettext(language)
    actor = f"candidate:{application.candidate_id}"
    if form.get("answer") == "delete":
        privacy.anonymise(
            session,
            candidate_id=application.candidate_id,
            application_ids=[application.id],
            actor=actor,
            reason="candidate_request",
        )
        outcome = _("Your profile was deleted.")
        return Page(
            "outcome.html.j2", {"title": _("Your profile"), "outcome": outcome}, language=language
        )
    if form.get("answer") != "keep":
        return show(session, token, language)
    application.candidate_acted_at = token.used_at = utcnow()
    history.record(
        session,
        actor=actor,
        action="cv_bank_kept",
        application_id=application.id,
        after={"kept_until": profile_kept_until(application).isoformat()},
    )
    session.flush()
    return _kept(application, language)
