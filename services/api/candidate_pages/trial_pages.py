"""The pages of trial invitations: answer a fixed-time invitation, book or change a slot."""

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from services.api.candidate_pages.page import Page, gettext
from shared import answers, history, loading
from shared.answers import Answer, Result
from shared.calendar import build_request
from shared.emails.texts import written_datetime
from shared.models import (
    Candidate,
    CandidateToken,
    Dossier,
    LinkPurpose,
    Participation,
    Trial,
    utcnow,
)
from shared.participations import SlotFull, UnknownSlot, announce, book, free_slots, move
from shared.trial_events import trial_event
from shared.workflow import CURRENT_PARTICIPATION_STATES, ParticipationStatus, TrialStatus

P = ParticipationStatus


def _when(participation: Participation, moment: datetime, language: str) -> str:
    return written_datetime(moment, participation.trial.timezone, language)


def _participation(
    session: Session, token: CandidateToken, lock: bool
) -> tuple[Participation, str]:
    """The link's participation, with its trial and job (what every page shows), and the
    language of the candidate the link was sent to, in one statement; a page that names the
    candidate loads them (`_candidate_name`): a booking, the hot path, does not."""
    language = select(Candidate.language).where(Candidate.id == token.candidate_id)
    query = (
        select(Participation, language.scalar_subquery())
        .where(Participation.id == token.participation_id)
        .options(joinedload(Participation.trial).joinedload(Trial.job))
    )
    if lock:
        query = query.with_for_update(of=Participation)
    participation, candidate_language = session.execute(query).one()
    return participation, candidate_language


def _candidate_name(session: Session, participation: Participation) -> str:
    dossier = session.get(
        Dossier, participation.dossier_id, options=[joinedload(Dossier.candidate)]
    )
    assert dossier is not None
    return dossier.candidate.full_name


def _state_page(participation: Participation, language: str, status: int = 200) -> Page:
    """What an answered, cancelled or expired invitation shows."""
    _ = gettext(language)
    trial = participation.trial
    title = f"{trial.title} – {trial.job.title}"
    when = (
        _when(participation, participation.starts_at, language) if participation.starts_at else ""
    )
    outcome = {
        P.ACCEPTED: _("You confirmed that you will attend: %(when)s.") % {"when": when},
        P.DECLINED: _("You told us that you will not attend."),
        P.CANCELLED: _("This trial was cancelled for you."),
        P.EXPIRED: _("The deadline to answer has passed."),
    }.get(P(participation.status), "")
    # Booked or accepted: the page offers the event for the candidate's calendar.
    calendar = participation.status == P.ACCEPTED and participation.starts_at is not None
    return Page(
        "outcome.html.j2",
        {"title": title, "outcome": outcome, "calendar": calendar},
        status=status,
        language=language,
    )


def show(session: Session, token: CandidateToken, answer: str | None) -> Page:
    """The invitation's page (a GET changes nothing)."""
    participation, language = _participation(session, token, lock=False)
    if token.purpose == LinkPurpose.BOOK_SLOT:
        return _booking_page(session, participation, language)
    if participation.status != P.INVITED:
        return _state_page(participation, language)
    _ = gettext(language)
    trial = participation.trial
    assert participation.starts_at is not None
    return Page(
        "answer_invitation.html.j2",
        {
            "title": _("Your invitation"),
            "candidate_name": _candidate_name(session, participation),
            "trial_title": trial.title,
            "job_title": trial.job.title,
            "when": _when(participation, participation.starts_at, language),
            "location": trial.location,
            "info": trial.info,
            "answer": answer if answer in ("accept", "decline") else None,
        },
        language=language,
    )


def _booking_page(
    session: Session, participation: Participation, language: str, full: bool = False
) -> Page:
    if participation.status not in (P.INVITED, P.ACCEPTED):
        return _state_page(participation, language)
    _ = gettext(language)
    trial = participation.trial
    slots = [
        {"id": slot.id, "label": _when(participation, slot.starts_at, language)}
        for slot in free_slots(session, trial.id)
        if slot.id != participation.slot_id
    ]
    booked = None
    if participation.slot_id and participation.starts_at:
        booked = _when(participation, participation.starts_at, language)
    return Page(
        "book_slot.html.j2",
        {
            "title": _("Choose your time"),
            "candidate_name": _candidate_name(session, participation),
            "trial_title": trial.title,
            "job_title": trial.job.title,
            "slots": slots,
            "booked": booked,
            "full": full,
        },
        status=409 if full else 200,
        language=language,
    )


def calendar(session: Session, token: CandidateToken, link: str, language: str) -> bytes | Page:
    """The event of a booked or accepted participation, as its last email carried it (same UID
    and SEQUENCE); the link to change the slot is the page's own, while it works. Else the
    page of its state (409)."""
    participation = session.get(
        Participation, token.participation_id, options=loading.PARTICIPATION
    )
    assert participation is not None
    if participation.status != P.ACCEPTED or participation.starts_at is None:
        return _state_page(participation, language, status=409)
    changeable = token.purpose == LinkPurpose.BOOK_SLOT and token.expires_at > utcnow()
    event = trial_event(
        participation,
        link=link if changeable else None,
        link_kind="change" if changeable else None,
        until=token.expires_at if changeable else None,
    )
    return build_request(event)


def act(session: Session, token: CandidateToken, form: dict[str, str]) -> Page:
    """Answer the invitation or book the slot; a repeated POST changes nothing more."""
    participation, language = _participation(session, token, lock=True)
    actor = f"candidate:{token.candidate_id}"
    if (
        participation.status not in CURRENT_PARTICIPATION_STATES
        or participation.trial.status != TrialStatus.PLANNED
    ):
        return _state_page(participation, language)
    if token.purpose == LinkPurpose.BOOK_SLOT:
        return _book(session, participation, form.get("slot_id", ""), actor, language)
    if participation.status != P.INVITED:
        return _state_page(participation, language)
    answer = form.get("answer")
    if answer not in ("accept", "decline"):
        return _state_page(participation, language, status=400)
    if answers.apply(session, participation, Answer(answer), actor=actor) is Result.APPLIED:
        token.used_at = participation.answered_at
    session.flush()
    return _state_page(participation, language)


def _book(
    session: Session, participation: Participation, slot_id: str, actor: str, language: str
) -> Page:
    try:
        wanted = uuid.UUID(slot_id)
    except ValueError:
        return _booking_page(session, participation, language)
    if participation.slot_id == wanted:
        return _state_page(participation, language)  # the same booking again: nothing to do
    previous = participation.starts_at
    try:
        book(session=session, participation=participation, slot_id=wanted)
    except SlotFull:
        return _booking_page(session, participation, language, full=True)
    except UnknownSlot:
        return _booking_page(session, participation, language)
    first = move(participation, "book_slot") == P.INVITED
    participation.answered_at = participation.answered_at or utcnow()
    announce(
        session,
        participation,
        "confirm_booking" if first else "update",
        previous_starts_at=previous,
    )
    history.record(
        session,
        actor=actor,
        action="slot_booked" if first else "slot_changed",
        dossier_id=participation.dossier_id,
        before={"starts_at": previous.isoformat() if previous else None},
        after={"slot_id": slot_id, "participation_id": str(participation.id)},
    )
    session.flush()
    return _state_page(participation, language)
