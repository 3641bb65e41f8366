"""The SMTP sender against a real (scripted) aiosmtpd server: reuse and failure classes."""

import asyncio
from email.message import EmailMessage
from typing import Any

import pytest

from services.notifier.smtp import (
    PermanentFailure,
    SmtpSender,
    TransientFailure,
    UnknownOutcome,
)
from shared.settings import Settings
from tests.mailbox import SmtpServer, free_port
from tests.notifier.conftest import Scripted


def _email(to: str = "elise@example.org") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "RH <rh@commune.example>"
    message["To"] = to
    message["Subject"] = "Test"
    message["Message-ID"] = "<abc@commune.example>"
    message.set_content("Bonjour")
    return message


def _settings(port: int, timeout: float = 5) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none", smtp_timeout=timeout)


def _send(sender: SmtpSender, *messages: EmailMessage) -> list[str]:
    async def run() -> list[str]:
        try:
            return [await sender.send(m) for m in messages]
        finally:
            await sender.close()

    return asyncio.run(run())


def test_messages_share_one_connection(smtp_server: SmtpServer) -> None:
    smtp_server.mailbox.clear()
    answers = _send(SmtpSender(_settings(smtp_server.port)), _email(), _email(), _email())
    assert all(a.startswith("250") for a in answers)
    assert len(smtp_server.mailbox.messages) == 3
    assert smtp_server.mailbox.connections == 1


@pytest.mark.parametrize("code", ["421 4.3.2 shutting down", "450 4.2.1 busy", "451 4.3.0 later"])
def test_4xx_on_rcpt_is_transient(scripted: Any, code: str) -> None:
    port = scripted(Scripted(rcpt=code))
    with pytest.raises(TransientFailure, match=code[:3]):
        _send(SmtpSender(_settings(port)), _email())


@pytest.mark.parametrize("code", ["550 5.1.1 no such user", "554 5.7.1 rejected"])
def test_5xx_is_permanent(scripted: Any, code: str) -> None:
    port = scripted(Scripted(rcpt=code))
    with pytest.raises(PermanentFailure, match=code[:3]):
        _send(SmtpSender(_settings(port)), _email())


def test_5xx_after_data_is_permanent(scripted: Any) -> None:
    port = scripted(Scripted(data="554 5.6.0 message refused"))
    with pytest.raises(PermanentFailure, match="554"):
        _send(SmtpSender(_settings(port)), _email())


def test_timeout_after_data_is_unknown(scripted: Any) -> None:
    port = scripted(Scripted(stall=3))
    with pytest.raises(UnknownOutcome):
        _send(SmtpSender(_settings(port, timeout=1)), _email())


def test_no_server_is_transient() -> None:
    with pytest.raises(TransientFailure):
        _send(SmtpSender(_settings(free_port(), timeout=2)), _email())
