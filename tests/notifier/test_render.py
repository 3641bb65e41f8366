"""Templates render in every language written, and the MIME message carries the calendar."""

from email import message_from_bytes, policy
from pathlib import Path

import pytest

from services.notifier.render import TEMPLATES, compose, message_id, render
from shared.models import Message
from shared.settings import Settings

CONTEXTS = {
    "application_validated": {
        "candidate_name": "Élise Dupont",
        "job_title": "Juriste",
        "job_reference": "J-1",
    },
    "trial_invitation": {
        "candidate_name": "Élise Dupont",
        "job_title": "Juriste",
        "trial_title": "Épreuve écrite",
        "starts_local": "2026-03-29 10:00",
        "timezone": "Europe/Brussels",
        "duration_minutes": 90,
        "location": "Hôtel de ville",
        "info": "Apportez un stylo <b>bleu</b>.",
        "response_deadline_local": "2026-03-20 12:00",
    },
}
LANGUAGES = sorted(p.name for p in Path(TEMPLATES).iterdir() if p.is_dir())


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(CONTEXTS))
def test_every_kind_renders(kind: str, language: str) -> None:
    subject, text, html = render(kind, language, CONTEXTS[kind])
    assert subject and "\n" not in subject
    assert "Élise Dupont" in text and "Élise Dupont" in html
    assert "<b>" not in html, "HTML escapes what HR typed"


def test_invitation_mime_layout() -> None:
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    message = Message(
        idempotency_key="invitation:1:0",
        kind="trial_invitation",
        language="fr",
        to_address="elise@example.org",
        to_name="Élise Dupont",
        context=CONTEXTS["trial_invitation"],
        calendar_method="REQUEST",
        calendar_ics=ics,
    )
    settings = Settings(mail_from="Service RH <rh@commune.example>")
    parsed = message_from_bytes(bytes(compose(message, settings)), policy=policy.default)

    assert parsed["Message-ID"] == message_id("invitation:1:0", settings.mail_from)
    assert parsed["Message-ID"].endswith("@commune.example>")
    types = [part.get_content_type() for part in parsed.walk()]
    assert types == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "application/ics",
    ]
    calendar = next(p for p in parsed.walk() if p.get_content_type() == "text/calendar")
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_payload(decode=True) == ics.encode()
