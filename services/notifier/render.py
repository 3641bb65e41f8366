"""Render an email from its templates and compose the MIME message (with its calendar)."""

import hashlib
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from shared.models import Message
from shared.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"
FALLBACK_LANGUAGE = "en"


@lru_cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _template_language(kind: str, language: str) -> str:
    try:
        _environment().get_template(f"{language}/{kind}.txt.j2")
    except TemplateNotFound:
        return FALLBACK_LANGUAGE
    return language


def render(kind: str, language: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, plain text and HTML of an email kind in a language (English if not written)."""
    env = _environment()
    lang = _template_language(kind, language)
    subject = env.get_template(f"{lang}/{kind}.subject.j2").render(context).strip()
    text = env.get_template(f"{lang}/{kind}.txt.j2").render(context)
    html = env.get_template(f"{lang}/{kind}.html.j2").render(context)
    return subject, text, html


def message_id(idempotency_key: str, mail_from: str) -> str:
    """A Message-ID derived from the idempotency key: a resend is recognisably the same."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "recrue.local"
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"


def compose(message: Message, settings: Settings) -> EmailMessage:
    """The MIME message: text and HTML alternatives, plus the calendar part and .ics file."""
    subject, text, html = render(message.kind, message.language, message.context)
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = settings.mail_from
    email["To"] = formataddr((message.to_name, message.to_address))
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = message_id(message.idempotency_key, settings.mail_from)
    email["Content-Language"] = message.language
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
    return email
