"""The MIME message: text and HTML alternatives, the calendar part and a stable Message-ID."""

import asyncio
import re
from datetime import timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from services.notifier.mime import compose, message_id_header
from services.notifier.smtp import FileSender
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

    assert parsed["Message-ID"] == message_id_header("invitation:1:0", settings.mail_from)
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
    assert first.message_id_header == again.message_id_header
    assert message_from_bytes(first.data)["Message-ID"] == first.message_id_header
    assert message_id_header("other", settings.mail_from) != first.message_id_header


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


# What relays and clients care about, read from the bytes sent (and written to the .eml files).

_LONG_NAME = "Marie-Élisabeth Żółkiewska-Van den Bossche de la Tour d’Auvergne " * 16
_BARE_LF = re.compile(rb"(?<!\r)\n")
_ENCODED_WORD = re.compile(rb"=\?[^?]+\?[bBqQ]\?[^?]*\?=")


def _decoded(data: bytes, name: bytes) -> str:
    """A header's value, unfolded and decoded as RFC 2047 says."""
    lines = _headers(data)
    start = next(i for i, line in enumerate(lines) if line.startswith(name + b": "))
    end = next(
        i for i in range(start + 1, len(lines) + 1) if i == len(lines) or lines[i][:1] != b" "
    )
    raw = b"".join(lines[start:end])[len(name) + 2 :].decode("ascii")
    return str(make_header(decode_header(raw)))


def _headers(data: bytes) -> list[bytes]:
    """The header lines, as sent (folded lines each on their own)."""
    return data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_email_says_it_was_sent_automatically_and_dates_itself_in_utc(kind: str) -> None:
    data = compose(_message(kind, "nl"), Settings()).data
    parsed = message_from_bytes(data, policy=policy.default)
    assert parsed["Auto-Submitted"] == "auto-generated"
    date = next(line for line in _headers(data) if line.startswith(b"Date: "))
    assert re.fullmatch(rb"Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000", date), date
    assert parsed["Date"].datetime.utcoffset() == timedelta(0)


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_long_names_and_subjects_are_folded_with_crlf(tmp_path: Path, method: str) -> None:
    ics = f"BEGIN:VCALENDAR\r\nMETHOD:{method}\r\nEND:VCALENDAR\r\n"
    message = _message("trial_invitation", "fr", calendar_method=method, calendar_ics=ics)
    message.to_name = _LONG_NAME
    message.context = message.context | {"trial_title": "Épreuve écrite de synthèse " * 8}
    settings = Settings(mail_from=f"{'Service des ressources humaines – ' * 4}<rh@commune.example>")
    outgoing = compose(message, settings)
    asyncio.run(FileSender(tmp_path).send(outgoing))
    [eml] = tmp_path.glob("*.eml")
    for data in (outgoing.data, eml.read_bytes()):
        assert _BARE_LF.search(data) is None, "every line ends in CRLF"
        assert data.endswith(b"\r\n")
        for line in _headers(data):
            assert len(line) <= 998, line
            assert len(line) <= 78, line  # what this layout writes, addresses included
        for word in _ENCODED_WORD.findall(data.split(b"\r\n\r\n", 1)[0]):
            assert len(word) <= 75, word
        parsed = message_from_bytes(data, policy=policy.default)
        # RFC 2047 decoding (the email package's address parser puts a space between two
        # adjacent encoded words, which the RFC says to drop).
        to = _decoded(data, b"To")
        assert to == f"{' '.join(_LONG_NAME.split())} <{message.to_address}>"
        sender = ("Service des ressources humaines – " * 4).strip()
        assert _decoded(data, b"From") == f"{sender} <rh@commune.example>"
        assert parsed["To"].addresses[0].addr_spec == message.to_address
        assert parsed["Subject"] == outgoing.subject
        assert "Épreuve écrite de synthèse" in parsed["Subject"]
        [attachment] = [p for p in parsed.walk() if p.get_content_type() == "application/ics"]
        filename = "invite.ics" if method == "REQUEST" else "cancel.ics"
        assert attachment.get_param("name") == filename
        assert attachment.get_filename() == filename
        assert attachment.get_payload(decode=True) == ics.encode()


def test_a_short_ascii_name_stays_readable() -> None:
    message = _message("welcome", "en")
    message.to_name = "Jan Peeters"
    data = compose(message, Settings(mail_from="HR <hr@example.org>")).data
    assert b"To: Jan Peeters <elise@example.org>\r\n" in data
    assert b"From: HR <hr@example.org>\r\n" in data
