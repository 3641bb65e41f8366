"""The page every email's footer links to: the candidate asks for a copy of their data or its
erasure. The request goes to the history of their latest application, which lists it in HR's
notices; HR decides (GET /candidates/{id}/export, POST /candidates/{id}/erase)."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.api.candidate_pages.page import Page, gettext
from shared import history
from shared.emails.texts import written_datetime
from shared.models import Application, Candidate, utcnow
from shared.settings import get_settings

REQUESTS = ("export", "erasure")
ACTION = "privacy_request"


def candidate(session: Session, candidate_id: uuid.UUID) -> Candidate | None:
    """The person the link was made for, unless they were erased since."""
    found = session.get(Candidate, candidate_id)
    return None if found is None or found.anonymised_at is not None else found


def show(person: Candidate) -> Page:
    """The two requests the person may make (a GET changes nothing)."""
    _ = gettext(person.language)
    return Page(
        "privacy_request.html.j2",
        {"title": _("Your personal data"), "candidate_name": person.full_name},
        language=person.language,
    )


def act(session: Session, person: Candidate, form: dict[str, str]) -> Page:
    """Record the request for HR."""
    request = form.get("answer", "")
    latest = session.scalars(
        select(Application)
        .where(Application.candidate_id == person.id)
        .order_by(Application.created_at.desc())
        .limit(1)
        .options(selectinload(Application.dossier))
    ).first()
    if form.get("action") != ACTION or request not in REQUESTS or latest is None:
        return show(person)
    history.record(
        session,
        actor=f"candidate:{person.id}",
        action=ACTION,
        application_id=latest.id,
        dossier_id=latest.dossier_id,
        after={"request": request},
    )
    _ = gettext(person.language)
    when = written_datetime(utcnow(), get_settings().default_timezone, person.language, zone=False)
    outcome = (
        _("Your request for a copy of your data was recorded on %(when)s.")
        if request == "export"
        else _("Your request for the erasure of your data was recorded on %(when)s.")
    ) % {"when": when}
    detail = _("Our HR department answers within one month.")
    return Page(
        "outcome.html.j2",
        {"title": _("Your personal data"), "outcome": outcome, "detail": detail},
        language=person.language,
    )
