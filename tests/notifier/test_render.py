"""The MIME message: text and HTML alternatives, the calendar part and a stable Message-ID."""

from email import message_from_bytes, policy

import pytest

from services.notifier.render import compose, message_id
from shared.emails import KINDS
from shared.models import Message
from shared.settings import Settings


def _message(kind: str, language: str, **more: object) -> Message:
    return Message(
        idempotency_key="invitation:1:0",
        kind=kind,
        language=language,
        to_address="elise@example.org",
        to_name="Élise Dupont",
        context=dict(KINDS[kind].sample),
        **more,
    )


def test_invitation_mime_layout() -> None:
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    message = _message("trial_invitation", "fr", calendar_method="REQUEST", calendar_ics=ics)
    settings = Settings(mail_from="Service RH <rh@commune.example>")
    parsed = message_from_bytes(compose(message, settings).data, policy=policy.default)

    assert parsed["Message-ID"] == message_id("invitation:1:0", settings.mail_from)
    assert parsed["Message-ID"].endswith("@commune.example>")
    assert parsed["Subject"].startswith("Convocation : Épreuve écrite – dimanche 29 mars 2026")
    assert parsed["Content-Language"] == "fr"
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


def test_message_id_is_stable_per_idempotency_key() -> None:
    settings = Settings(mail_from="Service RH <rh@commune.example>")
    first = compose(_message("welcome", "de"), settings)
    again = compose(_message("welcome", "de"), settings)
    assert first.message_id == again.message_id
    assert message_from_bytes(first.data)["Message-ID"] == first.message_id
    assert message_id("other", settings.mail_from) != first.message_id


def test_an_email_without_calendar_is_text_and_html() -> None:
    parsed = message_from_bytes(
        compose(_message("not_retained", "es"), Settings()).data, policy=policy.default
    )
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["Content-Language"] == "en", "a language we do not write falls back to English"
    html = parsed.get_body(("html",))
    assert html is not None and '<html lang="en">' in html.get_content()


def test_the_text_mentions_a_calendar_only_when_one_goes_with_it() -> None:
    settings = Settings()
    ics = "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n"
    with_calendar = compose(
        _message("cancellation", "en", calendar_method="CANCEL", calendar_ics=ics), settings
    )
    without = compose(_message("cancellation", "en"), settings)  # a slot never booked
    for email, mentioned in ((with_calendar, True), (without, False)):
        text = message_from_bytes(email.data, policy=policy.default).get_body(("plain",))
        assert text is not None
        assert ("removes the event from your calendar" in text.get_content()) is mentioned


def test_a_line_break_in_a_name_cannot_add_a_header() -> None:
    message = _message("welcome", "en")
    message.to_name = "Mallory\r\nBcc: victim@example.org"
    parsed = message_from_bytes(compose(message, Settings()).data, policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed["To"].addresses[0].display_name == "Mallory Bcc: victim@example.org"
    assert parsed["To"].addresses[0].addr_spec == "elise@example.org"


def test_an_address_with_a_line_break_is_refused() -> None:
    message = _message("welcome", "en")
    message.to_address = "elise@example.org\r\nBcc: victim@example.org"
    with pytest.raises(ValueError, match="not an email address"):
        compose(message, Settings())
