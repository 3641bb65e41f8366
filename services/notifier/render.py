"""Compose the MIME message of a message row: its rendered texts, calendar and Message-ID."""

import hashlib
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr

from shared.emails import render
from shared.emails.render import language_of
from shared.models import Message
from shared.settings import Settings

__all__ = ["compose", "message_id", "render"]


def message_id(idempotency_key: str, mail_from: str) -> str:
    """A Message-ID derived from the idempotency key: a resend is recognisably the same."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "recrue.local"
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"


def compose(message: Message, settings: Settings) -> EmailMessage:
    """The MIME message: text and HTML alternatives, plus the calendar part and .ics file."""
    context = message.context | {"calendar_attached": bool(message.calendar_ics)}
    subject, text, html = render(message.kind, message.language, context)
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = settings.mail_from
    email["To"] = formataddr((message.to_name, message.to_address))
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = message_id(message.idempotency_key, settings.mail_from)
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    if message.calendar_ics:
        method = message.calendar_method or "REQUEST"
        ics = message.calendar_ics.encode()
        # base64 keeps the CRLF line ends that RFC 5545 requires, whatever relays do to text.
        email.add_alternative(
            ics, "text", "calendar", cte="base64", params={"method": method, "charset": "utf-8"}
        )
        email.add_attachment(
            ics,
            maintype="application",
            subtype="ics",
            filename="invite.ics" if method == "REQUEST" else "cancel.ics",
        )
    # Set last: building the multipart body moves Content-* headers into the first part.
    email["Content-Language"] = language_of(message.language)
    return email
