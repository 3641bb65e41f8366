"""What the candidate reads in the email that arrives and in the event it puts in their
calendar: the event carries the trial's information, their own link (to answer, or to change
their slot), until when, and whom to ask, in their language, and URL is that link; the emails
say that answering in the calendar works as well; a cancellation for someone who never booked
names no time. Each email is composed as the notifier sends it and parsed back."""

import uuid
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import icalendar
import pytest
from sqlalchemy import select

from services.notifier.mime import compose
from shared.db import session_scope
from shared.emails.texts import written_datetime
from shared.models import Message, Participation
from shared.participations import announce
from shared.settings import get_settings
from tests import libical
from tests.replies_flow import accepted_slot, run_calendars

DEADLINE = "2027-03-20T12:00:00+01:00"
INFO = "Munissez-vous de votre carte d'identité; pas de calculatrice, ni de téléphone."
# What the event says, by language: the answer link's label, the calendar's own answer, the
# deadline's sentence, the contact's label.
ANSWER = {
    "fr": (
        "Pour accepter ou refuser cette invitation",
        "Accepter ou Refuser",
        "Merci de répondre avant le",
        "Questions",
    ),
    "nl": (
        "Om deze uitnodiging te aanvaarden of te weigeren",
        "Accepteren of Weigeren",
        "Gelieve te antwoorden vóór",
        "Vragen",
    ),
    "de": (
        "Um diese Einladung anzunehmen oder abzulehnen",
        "Zusagen oder Ablehnen",
        "Bitte antworten Sie bis",
        "Fragen",
    ),
    "en": (
        "To accept or decline this invitation",
        "Accept or Decline",
        "Please answer before",
        "Questions",
    ),
}
# What the invitation email says of answering in the calendar.
IN_THE_CALENDAR = {
    "fr": "Vous pouvez aussi répondre dans votre agenda",
    "nl": "U kunt ook in uw agenda antwoorden",
    "de": "Sie können auch direkt in Ihrem Kalender antworten",
    "en": "You can also answer in your calendar",
}


def _arrived(message: Message) -> EmailMessage:
    """The email as the notifier sends it."""
    data = compose(message, get_settings()).data
    parsed = message_from_bytes(data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _text(email: EmailMessage) -> str:
    body = email.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _event(email: EmailMessage) -> icalendar.Event | None:
    """The event of the email's calendar part (what the calendar client reads)."""
    for part in email.walk():
        if part.get_content_type() == "text/calendar":
            raw = part.get_payload(decode=True)
            assert isinstance(raw, bytes)
            if libical.available():
                assert libical.errors(raw.decode()) == []
            [event] = icalendar.Calendar.from_ical(raw).walk("VEVENT")
            return event
    return None


def _emails(kind: str) -> list[Message]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(Message).where(Message.kind == kind).order_by(Message.to_address)
            )
        )


def _page(link: str) -> str:
    return link.split("?")[0]


def _contact() -> str:
    return get_settings().mail_from.split("<")[1].rstrip(">")


def test_each_invitation_event_carries_its_own_link_in_its_own_language(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job()
    dossiers = [
        build.dossier(job, candidate=build.candidate(language=language)) for language in ANSWER
    ]
    trial = build.written_trial(job, info=INFO, response_deadline=DEADLINE)
    build.invite(trial, *dossiers)  # one block: the bulk path
    run_calendars()

    invitations = _emails("trial_invitation")
    assert len(invitations) == 4
    pages = {_page(str(m.context["accept_link"])) for m in invitations}
    assert len(pages) == 4, "a link per candidate"
    for message in invitations:
        language = message.language
        email = _arrived(message)
        event = _event(email)
        assert event is not None
        page = _page(str(message.context["accept_link"]))
        description = str(event["DESCRIPTION"])
        label, calendar_answer, before, questions = ANSWER[language]
        deadline = written_datetime(datetime.fromisoformat(DEADLINE), "Europe/Brussels", language)
        assert description.startswith(INFO + "\n\n"), description
        assert f"{label}" in description and page in description, description
        assert calendar_answer in description
        assert f"{before} {deadline}." in description
        assert f"{questions}" in description and _contact() in description
        assert [p for p in pages if p in description] == [page], "its own link, no other"
        assert str(event["URL"]) == page
        # The link in the calendar opens the candidate's page.
        response = client.get(page[page.index("/c/") :])
        assert response.status_code == 200
        text = _text(email)
        assert IN_THE_CALENDAR[language] in text
        assert "Outlook, Gmail" in text


def test_a_booked_slot_event_carries_the_change_link(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    _, dossier, _, p = accepted_slot(build, client, hr)
    with session_scope() as session:
        participation = session.get(Participation, uuid.UUID(p["id"]))
        assert participation is not None
        announce(session, participation, "confirm_booking")
    run_calendars()

    [message] = _emails("booking_confirmation")
    email = _arrived(message)
    event = _event(email)
    assert event is not None
    change = str(message.context["change_link"])
    description = str(event["DESCRIPTION"])
    until = written_datetime(
        datetime.fromisoformat("2027-06-01T12:00:00+02:00"), "Europe/Brussels", "fr"
    )
    assert f"Pour changer de créneau\xa0: {change}" in description
    assert f"Vous pouvez changer de créneau jusqu’au {until}." in description
    assert "Accepter ou Refuser" not in description
    assert str(event["URL"]) == change
    assert "refuser l’événement dans votre agenda" in _text(email)
    assert "libère votre créneau" in _text(email)


def test_an_update_while_unanswered_carries_new_answer_links(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job()
    waiting, answered = build.dossier(job), build.dossier(job)
    trial = build.written_trial(job, info=INFO)
    build.invite(trial, waiting, answered)
    run_calendars()
    with session_scope() as session:
        participation = session.scalars(
            select(Participation).where(Participation.dossier_id == uuid.UUID(answered["id"]))
        ).one()
        participation.status = "accepted"
    moved = client.post(
        f"/api/v1/trials/{trial['id']}/postpone",
        json={"starts_at": "2027-03-29T14:00:00+02:00"},
        headers=hr,
    )
    assert moved.status_code == 200, moved.text
    run_calendars()

    by_dossier = {str(m.dossier_id): m for m in _emails("postponement")}
    unanswered = by_dossier[waiting["id"]]
    email = _arrived(unanswered)
    text = _text(email)
    accept = str(unanswered.context["accept_link"])
    assert accept in text and str(unanswered.context["decline_link"]) in text
    assert IN_THE_CALENDAR["fr"] in text
    event = _event(email)
    assert event is not None
    assert str(event["URL"]) == _page(accept)
    assert _page(accept) in str(event["DESCRIPTION"])
    assert "Pour accepter ou refuser cette invitation" in str(event["DESCRIPTION"])

    done = by_dossier[answered["id"]]
    email = _arrived(done)
    assert "accept_link" not in done.context
    assert IN_THE_CALENDAR["fr"] not in _text(email)
    event = _event(email)
    assert event is not None
    assert "URL" not in event
    description = str(event["DESCRIPTION"])
    assert description.startswith(INFO) and _contact() in description
    assert "/c/" not in description


def test_hr_contact_is_what_events_name(
    client: Any, build: Any, hr: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HR_CONTACT", "Service RH, 02 123 45 67, recrutement@commune.example")
    get_settings.cache_clear()
    try:
        job = build.job()
        trial = build.written_trial(job, info="")
        build.invite(trial, build.dossier(job))
        run_calendars()
        [message] = _emails("trial_invitation")
        event = _event(_arrived(message))
    finally:
        monkeypatch.delenv("HR_CONTACT")
        get_settings.cache_clear()
    assert event is not None
    description = str(event["DESCRIPTION"])
    assert description.startswith("Pour accepter ou refuser"), "no information: no blank head"
    assert description.endswith(
        "Questions\xa0: Service RH, 02 123 45 67, recrutement@commune.example"
    )


def test_a_cancellation_names_no_slot_never_booked(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job()
    dossier = build.dossier(job)
    body = {
        "kind": "oral",
        "title": "Entretien",
        "response_deadline": "2027-06-01T12:00:00+02:00",
        "booking": {
            "slot_minutes": 30,
            "capacity": 1,
            "windows": [{"start": "2027-06-15T09:00:00+02:00", "end": "2027-06-15T10:00:00+02:00"}],
        },
    }
    trial = client.post(f"/api/v1/jobs/{job['id']}/trials", json=body, headers=hr).json()
    build.invite(trial, dossier)
    run_calendars()
    cancelled = client.post(
        f"/api/v1/trials/{trial['id']}/cancel", json={"reason": "Jury indisponible."}, headers=hr
    )
    assert cancelled.status_code == 200, cancelled.text
    run_calendars()

    [message] = _emails("cancellation")
    email = _arrived(message)
    assert _event(email) is None, "no event to remove"
    text = _text(email)
    subject = str(email["Subject"])
    assert " ".join(subject.split()) == "Annulation : Entretien"
    assert "l’épreuve «\xa0Entretien\xa0»" in text and "est annulée" in text
    assert "Jury indisponible." in text
    first_slot = datetime.fromisoformat("2027-06-15T09:00:00+02:00")
    for written in (
        written_datetime(first_slot, "Europe/Brussels", "fr", zone=False),
        "15 juin",
        "09:00",
        "prévue",
    ):
        assert written not in text and written not in subject, written
    html = email.get_body(("html",))
    assert html is not None and "15 juin" not in str(html.get_content())
