"""The page of an offer: the retained candidate accepts or declines the post."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api.candidate_pages.page import Page, gettext
from shared import loading, offers
from shared.models import CandidateToken, Dossier, utcnow
from shared.workflow import DossierStatus

D = DossierStatus


def _dossier(session: Session, token: CandidateToken, lock: bool) -> Dossier:
    query = select(Dossier).where(Dossier.application_id == token.application_id)
    if lock:
        query = query.with_for_update(of=Dossier)
    dossier = session.scalars(query.options(*loading.DOSSIER)).one_or_none()
    assert dossier is not None
    return dossier


def _state_page(dossier: Dossier, language: str) -> Page:
    _ = gettext(language)
    outcome = {
        D.OFFER_ACCEPTED: _("You accepted the post. Welcome!"),
        D.HIRED: _("You accepted the post. Welcome!"),
        D.OFFER_DECLINED: _("You declined the offer."),
    }.get(D(dossier.status), _("This offer is no longer open."))
    return Page(
        "outcome.html.j2",
        {"title": dossier.job.title, "outcome": outcome},
        language=language,
    )


def show(session: Session, token: CandidateToken, answer: str | None, language: str) -> Page:
    """The offer (a GET changes nothing)."""
    dossier = _dossier(session, token, lock=False)
    if dossier.status != D.RETAINED:
        return _state_page(dossier, language)
    _ = gettext(language)
    return Page(
        "answer_offer.html.j2",
        {
            "title": _("Your offer"),
            "candidate_name": dossier.candidate.full_name,
            "job_title": dossier.job.title,
            "job_reference": dossier.job.reference,
            "answer": answer if answer in ("accept", "decline") else None,
        },
        language=language,
    )


def act(session: Session, token: CandidateToken, form: dict[str, str], language: str) -> Page:
    """Accept or decline, once; a decline offers the post to the next of the reserve."""
    dossier = _dossier(session, token, lock=True)
    if dossier.status != D.RETAINED or token.used_at is not None:
        return _state_page(dossier, language)
    actor = f"candidate:{dossier.candidate_id}"
    if form.get("answer") == "accept":
        offers.accept(session, dossier, actor=actor)
    elif form.get("answer") == "decline":
        offers.decline(session, dossier, reason="declined on the offer page", actor=actor)
    else:
        return Page("outcome.html.j2", {"title": dossier.job.title, "outcome": ""}, 400, language)
    token.used_at = utcnow()
    session.flush()
    return _state_page(dossier, language)
