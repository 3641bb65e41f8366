"""Through a real MTA: our own Postfix on a loopback port, STARTTLS, delivering to a Maildir.

The instance is private (`tests/postfix.py`); the certificate is the test's self-signed one,
trusted through SMTP_CA_FILE.
"""

import asyncio
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from services.notifier.mime import compose, message_id_header
from services.notifier.smtp import Delivered, Outgoing, PermanentFailure, SmtpSender
from shared.emails import KINDS
from shared.models import Message
from shared.settings import Settings
from tests.notifier.conftest import Certificate, outgoing
from tests.postfix import DOMAIN, MAILBOX, Postfix, running_postfix

pytestmark = pytest.mark.postfix


@pytest.fixture(scope="module")
def postfix(certificate: Certificate) -> Iterator[Postfix]:
    """A private Postfix instance with STARTTLS, started and stopped by the test."""
    with running_postfix(tls=(certificate.cert, certificate.key)) as server:
        yield server


def _settings(server: Postfix, certificate: Certificate) -> Settings:
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        smtp_tls="starttls",
        smtp_require_tls=True,
        smtp_ca_file=certificate.cert,
        smtp_timeout=10,
        mail_from="Service RH <rh@commune.example>",
    )


def _send(settings: Settings, message: Outgoing) -> Delivered:
    async def run() -> Delivered:
        sender = SmtpSender(settings)
        try:
            return await sender.send(message)
        finally:
            await sender.close()

    return asyncio.run(run())


def test_invitation_is_delivered_over_starttls(postfix: Postfix, certificate: Certificate) -> None:
    settings = _settings(postfix, certificate)
    ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    row = Message(
        idempotency_key="invitation:postfix:0",
        kind="trial_invitation",
        language="nl",
        to_address=MAILBOX,
        to_name="Élise Dupont",
        context=dict(KINDS["trial_invitation"].sample),
        calendar_method="REQUEST",
        calendar_ics=ics,
    )
    sent = compose(row, settings)

    delivered = _send(settings, sent)

    assert delivered.response.startswith("250") and delivered.refused == {}
    [received] = postfix.wait_for(1)
    assert received["Subject"].startswith("Uitnodiging: Épreuve écrite – zondag 29 maart 2026")
    assert received["Message-ID"] == message_id_header("invitation:postfix:0", settings.mail_from)
    assert "using TLS" in " ".join(received.get_all("Received", []))  # Postfix saw STARTTLS
    text = received.get_body(("plain",))
    assert text is not None and "Geachte Élise Dupont" in text.get_content()
    calendar = next(p for p in received.walk() if p.get_content_type() == "text/calendar")
    assert calendar.get_payload(decode=True) == ics.encode()


def test_postfix_refusals_are_classified(postfix: Postfix, certificate: Certificate) -> None:
    settings = _settings(postfix, certificate)
    before = len(postfix.wait_for(0))
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["Subject"] = "Deux destinataires"
    message["Message-ID"] = "<two@commune.example>"
    message.set_content("Bonjour")

    message["To"] = f"{MAILBOX}, nobody@{DOMAIN}"
    delivered = _send(settings, outgoing(message))
    assert list(delivered.refused) == [f"nobody@{DOMAIN}"]
    assert delivered.refused[f"nobody@{DOMAIN}"].startswith("550 5.1.1")
    delivered_now = postfix.wait_for(before + 1)
    assert [m["Subject"] for m in delivered_now].count("Deux destinataires") == 1

    message.replace_header("To", "someone@elsewhere.test")  # not ours to relay
    with pytest.raises(PermanentFailure, match="554 5.7.1"):
        _send(settings, outgoing(message))
