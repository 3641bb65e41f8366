"""Compose the message of a message row: its rendered texts, calendar and Message-ID, as the
bytes the SMTP server receives.

The layout is fixed, so it is written directly rather than through `email.mime` objects, whose
header folding and quoted-printable encoding in pure Python cost more than rendering the texts:
- with a calendar: multipart/mixed [multipart/alternative [text/plain, text/html,
  text/calendar; method=...], application/ics attachment];
- without: multipart/alternative [text/plain, text/html].
Texts are UTF-8 in quoted-printable (binascii's, in C); the calendar is base64, which keeps the
CRLF line ends RFC 5545 requires whatever relays do to text. Every line ends in CRLF, header
lines included (folded ones too), and no header line is longer than 78 octets but for an
address that long: names are written as UTF-8 encoded words of at most 75 characters, each on
its own line. `Auto-Submitted: auto-generated` (RFC 3834) keeps out-of-office replies away from
the HR mailbox; `Date` is in UTC with a numeric zone.
"""

import base64
import binascii
import hashlib
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache

from services.notifier.smtp import Outgoing
from shared.emails import render
from shared.emails.texts import language_of
from shared.links import privacy_url
from shared.models import Message
from shared.settings import Settings

__all__ = ["compose", "message_id_header", "render"]

_CRLF = b"\r\n"
# Names and subjects in UTF-8 encoded words, base64: a third of the cost of quoted-printable.
# The UTF-8 bytes of one encoded word: base64 of 45 bytes is 60 characters, 72 with the
# "=?utf-8?b?" and "?=" around it (RFC 2047: at most 75).
_WORD_BYTES = 45
_HEADER_LINE = 78  # RFC 5322's "SHOULD" (998 is the "MUST")


def message_id_header(idempotency_key: str, mail_from: str) -> str:
    """A Message-ID derived from the idempotency key: a resend is recognisably the same."""
    domain = _sender(mail_from)[0][1].rpartition("@")[2] or "recrue.local"
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"


# The sender and a bulk send's subject are the same in every message: parsed and encoded once
# (email.utils and email.header are pure Python, and cost more than the rest of the headers).
@lru_cache(maxsize=16)
def _sender(mail_from: str) -> tuple[tuple[str, str], bytes]:
    """The configured sender as (name, address), and its From line."""
    sender = parseaddr(mail_from)
    return sender, _address_line("From", sender[0], sender[1])


@lru_cache(maxsize=1024)
def _subject_line(subject: str) -> bytes:
    """Encoded words (email.header writes some of 76 characters), folded with CRLF."""
    if subject.isascii() and len(subject) <= _HEADER_LINE - 9 and subject.isprintable():
        return b"Subject: " + subject.encode()
    return _folded(b"Subject: ", _encoded_words(subject, first=_HEADER_LINE - 9))


def _address_line(name: str, display_name: str, address: str) -> bytes:
    """`name: display name <address>`, folded: a plain ASCII name that fits on one line as
    formataddr writes it, else the name as UTF-8 encoded words, one per line."""
    line = f"{name}: " + formataddr((display_name, address))
    if line.isascii() and len(line) <= _HEADER_LINE:
        return line.encode()
    prefix = f"{name}: ".encode()
    words = _encoded_words(display_name, first=_HEADER_LINE - len(prefix))
    return _folded(prefix, [*words, f"<{address}>".encode()])


def _folded(prefix: bytes, words: list[bytes]) -> bytes:
    return prefix + b"\r\n ".join(words)


def _encoded_words(text: str, *, first: int) -> list[bytes]:
    """`text` as base64 UTF-8 encoded words of at most 75 characters, the first at most
    `first`, never splitting a character across two words (RFC 2047, 5)."""
    data = text.encode()
    words = []
    start = 0
    # 12 characters around the base64, which writes 4 for every 3 bytes.
    size = min(_WORD_BYTES, (first - 12) // 4 * 3)
    while start < len(data):
        end = min(start + size, len(data))
        size = _WORD_BYTES
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: step back
            end -= 1
        space = data.rfind(b" ", start, end)
        if end < len(data) and space > start + 15:
            # End the word after a space: parsers that (wrongly) put a space between two
            # encoded words then double one rather than split a name.
            end = space + 1
        words.append(b"=?utf-8?b?" + base64.b64encode(data[start:end]) + b"?=")
        start = end
    return words


def compose(message: Message, settings: Settings) -> Outgoing:
    """The message with its envelope: from the configured sender to the row's address."""
    context = message.context | {"calendar_attached": bool(message.calendar_ics)}
    if message.candidate_id is not None:
        context["privacy_link"] = privacy_url(message.candidate_id)
    subject, text, html = render(message.kind, message.language, context)
    sender, from_line = _sender(settings.mail_from)
    identifier = message_id_header(message.idempotency_key, settings.mail_from)
    texts = [_text(text, "plain"), _text(html, "html")]
    if message.calendar_ics:
        method = message.calendar_method or "REQUEST"
        ics = _base64(message.calendar_ics.encode())
        calendar = [
            f'Content-Type: text/calendar; method="{method}"; charset="utf-8"'.encode(),
            b"Content-Transfer-Encoding: base64",
        ]
        filename = "invite.ics" if method == "REQUEST" else "cancel.ics"
        attachment = [
            f'Content-Type: application/ics; name="{filename}"'.encode(),
            b"Content-Transfer-Encoding: base64",
            f'Content-Disposition: attachment; filename="{filename}"'.encode(),
        ]
        alternative = _multipart("alternative", [*texts, (calendar, ics)])
        head, body = _multipart("mixed", [alternative, (attachment, ics)])
    else:
        head, body = _multipart("alternative", texts)
    headers = [
        *head,
        b"MIME-Version: 1.0",
        _subject_line(subject),
        from_line,
        _address_line("To", _one_line(message.to_name), _address(message)),
        b"Date: " + format_datetime(datetime.now(UTC).replace(microsecond=0)).encode(),
        b"Message-ID: " + identifier.encode(),
        b"Content-Language: " + language_of(message.language).encode(),
        b"Auto-Submitted: auto-generated",
    ]
    return Outgoing(
        sender=sender[1],
        recipients=[message.to_address],
        message_id_header=identifier,
        subject=subject,
        data=_CRLF.join(headers) + _CRLF + _CRLF + body,
    )


_Part = tuple[list[bytes], bytes]  # header lines, body


def _one_line(text: str) -> str:
    """A name typed by someone else, on one line: a line break would start a header of its
    own (a Bcc, say)."""
    return " ".join(text.split())


def _address(message: Message) -> str:
    if any(c.isspace() or not c.isprintable() for c in message.to_address):
        raise ValueError(f"not an email address: {message.to_address!r}")
    return message.to_address


def _text(body: str, subtype: str) -> _Part:
    encoded = binascii.b2a_qp(body.replace("\r\n", "\n").encode(), istext=True)
    return (
        [
            f'Content-Type: text/{subtype}; charset="utf-8"'.encode(),
            b"Content-Transfer-Encoding: quoted-printable",
        ],
        encoded.replace(b"\n", _CRLF),
    )


def _base64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", _CRLF)


def _multipart(subtype: str, parts: list[_Part]) -> _Part:
    """A boundary that no part can contain: quoted-printable and base64 never write "=_"."""
    boundary = f"=_{secrets.token_hex(16)}".encode()
    body = b"".join(
        b"--" + boundary + _CRLF + _CRLF.join(head) + _CRLF + _CRLF + _ended(content)
        for head, content in parts
    )
    head = [f'Content-Type: multipart/{subtype}; boundary="{boundary.decode()}"'.encode()]
    return head, body + b"--" + boundary + b"--" + _CRLF


def _ended(content: bytes) -> bytes:
    return content if content.endswith(_CRLF) else content + _CRLF
