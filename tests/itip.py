"""Calendar answers (iTIP REPLY / COUNTER, RFC 5546, sent by email as iMIP, RFC 6047) in the
shapes real clients send them: Outlook, Gmail, Apple Calendar, Thunderbird.

Written by hand rather than by a library, so that the shapes are the clients' own: folded
content lines, quoted-printable or base64 parts, a CN with accents, "MAILTO:" in capitals,
an Outlook reply that is a bare `text/calendar` body.
"""

import base64
import quopri
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr

PRODIDS = {
    "outlook": "Microsoft Exchange Server 2010",
    "gmail": "-//Google Inc//Google Calendar 70.9054//EN",
    "apple": "-//Apple Inc.//macOS 14.4//EN",
    "thunderbird": "-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN",
}
ORGANIZER = "rh@commune.example"
SUBJECT_WORD = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative"}


@dataclass
class Answer:
    uid: str
    sequence: int
    email: str  # the attendee's address, as the client writes it
    name: str = "Élise Dupont-Van der Meersch"
    partstat: str = "ACCEPTED"
    method: str = "REPLY"
    sender: str | None = None  # the From address; the attendee's by default
    proposed: tuple[datetime, datetime] | None = None  # COUNTER
    comment: str | None = None
    summary: str = "Épreuve écrite – Agent administratif"


def fold(line: str) -> str:
    """RFC 5545 3.1: content lines longer than 75 octets folded with CRLF + one space."""
    data = line.encode()
    out: list[bytes] = []
    while len(data) > 75:
        cut = 75 if not out else 74
        while cut > 0 and (data[cut] & 0xC0) == 0x80:  # never inside a UTF-8 character
            cut -= 1
        out.append(data[:cut])
        data = data[cut:]
    out.append(data)
    return "\r\n ".join(part.decode() for part in out)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(answer: Answer, client: str) -> str:
    """The iCalendar text of the answer, as `client` writes it."""
    mailto = "MAILTO:" if client == "outlook" else "mailto:"
    cn = f'"{answer.name}"' if client in ("outlook", "apple") else answer.name
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODIDS[client]}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"METHOD:{answer.method}",
        "BEGIN:VEVENT",
        f"DTSTAMP:{_utc(datetime.now(UTC))}",
        f"UID:{answer.uid}",
        f"SEQUENCE:{answer.sequence}",
        f"SUMMARY:{answer.summary}",
        f"ORGANIZER;CN=Service RH:{mailto}{ORGANIZER}",
        f"ATTENDEE;PARTSTAT={answer.partstat};CN={cn};CUTYPE=INDIVIDUAL;"
        f"X-NUM-GUESTS=0:{mailto}{answer.email}",
    ]
    if answer.proposed:
        start, end = answer.proposed
        lines += [f"DTSTART:{_utc(start)}", f"DTEND:{_utc(end)}"]
    else:
        lines += ["DTSTART;TZID=Europe/Brussels:20270328T100000"]
    if answer.comment:
        lines.append(f"COMMENT:{answer.comment}")
    if client == "outlook":
        lines.append("X-MICROSOFT-CDO-REPLYTIME:" + _utc(datetime.now(UTC)))
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)


def _qp(text: str) -> str:
    return (
        quopri.encodestring(text.encode()).decode().replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    )


def _b64(text: str) -> str:
    encoded = base64.b64encode(text.encode()).decode()
    return "\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def email_of(answer: Answer, client: str) -> bytes:
    """The whole RFC 5322 message `client` sends to the organizer for this answer."""
    ics = calendar(answer, client)
    word = SUBJECT_WORD.get(answer.partstat, "New Time Proposed")
    if answer.method == "COUNTER":
        word = "New Time Proposed"
    sender = answer.sender or answer.email
    headers = [
        f"From: {formataddr((answer.name, sender))}",
        f"To: {formataddr(('Service RH', ORGANIZER))}",
        f"Subject: {Header(f'{word}: {answer.summary}', 'utf-8').encode()}",
        f"Date: {format_datetime(datetime.now(UTC))}",
        f"Message-ID: <{uuid.uuid4()}@{client}.example>",
        "MIME-Version: 1.0",
    ]
    method = f"method={answer.method}"
    if client == "outlook":  # often only the calendar, in base64
        headers += [
            f'Content-Type: text/calendar; charset="utf-8"; {method}',
            "Content-Transfer-Encoding: base64",
        ]
        body = _b64(ics)
    elif client == "gmail":
        body = _multipart(
            "mixed",
            [
                _multipart(
                    "alternative",
                    [
                        _part(
                            'text/plain; charset="UTF-8"',
                            "quoted-printable",
                            _qp(f"{answer.name} has accepted this invitation."),
                        ),
                        _part(
                            f'text/calendar; charset="UTF-8"; {method}',
                            "quoted-printable",
                            _qp(ics),
                        ),
                    ],
                    "alt-gmail",
                ),
                _part(
                    'application/ics; name="invite.ics"',
                    "base64",
                    _b64(ics),
                    'attachment; filename="invite.ics"',
                ),
            ],
            "mixed-gmail",
            headers,
        )
        return body.encode()
    elif client == "apple":
        body = _multipart(
            "mixed",
            [
                _part("text/plain; charset=us-ascii", "7bit", "Accepted."),
                _part(
                    f"text/calendar; charset=utf-8; {method}; name=iCal-20270301.ics",
                    "quoted-printable",
                    _qp(ics),
                    "attachment; filename=iCal-20270301.ics",
                ),
            ],
            "Apple-Mail=_1",
            headers,
        )
        return body.encode()
    else:  # thunderbird
        body = _multipart(
            "mixed",
            [
                _multipart(
                    "alternative",
                    [
                        _part(
                            "text/plain; charset=UTF-8; format=flowed",
                            "8bit",
                            f"{answer.name} a accepté votre invitation.",
                        ),
                        _part(f"text/calendar; charset=UTF-8; {method}", "8bit", ics),
                    ],
                    "alt-tb",
                ),
                _part(
                    'application/ics; name="invite.ics"',
                    "base64",
                    _b64(ics),
                    'attachment; filename="invite.ics"',
                ),
            ],
            "mixed-tb",
            headers,
        )
        return body.encode()
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


def _part(content_type: str, encoding: str, body: str, disposition: str | None = None) -> str:
    head = [f"Content-Type: {content_type}", f"Content-Transfer-Encoding: {encoding}"]
    if disposition:
        head.append(f"Content-Disposition: {disposition}")
    return "\r\n".join(head) + "\r\n\r\n" + body


def _multipart(
    subtype: str, parts: list[str], boundary: str, headers: list[str] | None = None
) -> str:
    head = list(headers or []) + [f'Content-Type: multipart/{subtype}; boundary="{boundary}"']
    body = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts) + f"--{boundary}--\r\n"
    return "\r\n".join(head) + "\r\n\r\n" + body


def auto_reply(to: str = ORGANIZER) -> bytes:
    """An out-of-office answer: no calendar at all."""
    return (
        f"From: Élise <elise@example.org>\r\nTo: {to}\r\nSubject: Absent du bureau\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Je suis absente jusqu'au 3 avril.\r\n"
    ).encode()


def malformed(sender: str) -> bytes:
    """A calendar part that is no iCalendar."""
    return (
        f"From: {sender}\r\nTo: {ORGANIZER}\r\nSubject: Accepted: ?\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/calendar; charset="utf-8"; method=REPLY\r\n\r\n'
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nthis is not a property\r\n"
    ).encode()
