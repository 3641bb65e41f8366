"""The SMTP sender against a real (scripted) aiosmtpd server: reuse, failure classes, TLS, AUTH."""

import asyncio
from email.message import EmailMessage
from typing import Any

import pytest

from services.notifier.smtp import (
    Delivered,
    PermanentFailure,
    SmtpSender,
    TransientFailure,
    UnknownOutcome,
)
from shared.settings import Settings
from tests.mailbox import SmtpServer, free_port
from tests.notifier.conftest import Certificate, Scripted, outgoing, password_checker


def _email(*to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "RH <rh@commune.example>"
    message["To"] = ", ".join(to or ["elise@example.org"])
    message["Subject"] = "Test"
    message["Message-ID"] = "<abc@commune.example>"
    message.set_content("Bonjour")
    return message


def _settings(port: int, timeout: float = 5, **more: Any) -> Settings:
    values = {"smtp_tls": "none"} | more
    return Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout=timeout, **values)


def _send(sender: SmtpSender, *messages: EmailMessage) -> list[Delivered]:
    async def run() -> list[Delivered]:
        try:
            return [await sender.send(outgoing(m)) for m in messages]
        finally:
            await sender.close()

    return asyncio.run(run())


def test_messages_share_one_connection(smtp_server: SmtpServer) -> None:
    smtp_server.mailbox.clear()
    answers = _send(SmtpSender(_settings(smtp_server.port)), _email(), _email(), _email())
    assert all(str(a).startswith("250") and not a.refused for a in answers)
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
    with pytest.raises(PermanentFailure, match=code[:3]) as failure:
        _send(SmtpSender(_settings(port)), _email())
    assert failure.value.refused == {"elise@example.org": code}


@pytest.mark.parametrize("code", ["421 4.3.2 closing", "451 4.3.0 local error"])
def test_4xx_after_data_is_transient(scripted: Any, code: str) -> None:
    port = scripted(Scripted(data=code))
    with pytest.raises(TransientFailure, match=code[:3]):
        _send(SmtpSender(_settings(port)), _email())


def test_5xx_after_data_is_permanent(scripted: Any) -> None:
    port = scripted(Scripted(data="554 5.6.0 message refused"))
    with pytest.raises(PermanentFailure, match="554"):
        _send(SmtpSender(_settings(port)), _email())


def test_partial_rcpt_refusal_delivers_to_the_others(scripted: Any) -> None:
    handler = Scripted(refuse={"nobody@example.org": "550 5.1.1 no such user"})
    port = scripted(handler)
    [delivered] = _send(
        SmtpSender(_settings(port)), _email("elise@example.org", "nobody@example.org")
    )
    assert delivered.response.startswith("250")
    assert delivered.refused == {"nobody@example.org": "550 5.1.1 no such user"}
    assert "nobody@example.org" in str(delivered) and "5.1.1" in str(delivered)
    assert handler.received == [(["elise@example.org"], False)]


def test_every_recipient_refused_keeps_each_answer(scripted: Any) -> None:
    refuse = {"a@example.org": "550 5.1.1 no such user", "b@example.org": "452 4.2.2 mailbox full"}
    handler = Scripted(refuse=refuse)
    port = scripted(handler)
    with pytest.raises(TransientFailure) as failure:  # one of them may work later
        _send(SmtpSender(_settings(port)), _email("a@example.org", "b@example.org"))
    assert failure.value.refused == refuse
    assert handler.received == []


def test_disconnect_after_data_is_unknown(scripted: Any) -> None:
    handler = Scripted(hang_up=True)
    port = scripted(handler)
    with pytest.raises(UnknownOutcome, match="after DATA"):
        _send(SmtpSender(_settings(port)), _email())
    assert len(handler.received) == 1, "the server had the whole message"


def test_timeout_after_data_is_unknown(scripted: Any) -> None:
    port = scripted(Scripted(stall=3))
    with pytest.raises(UnknownOutcome):
        _send(SmtpSender(_settings(port, timeout=1)), _email())


def test_a_send_past_its_deadline_before_data_is_retried(scripted: Any) -> None:
    # Each answer comes within SMTP_TIMEOUT, but the whole send takes too long.
    port = scripted(Scripted(stall_rcpt=0.6))
    slow = _settings(port, timeout=5, smtp_send_deadline=1)
    with pytest.raises(TransientFailure, match="SMTP_SEND_DEADLINE"):
        _send(SmtpSender(slow), _email("a@example.org", "b@example.org", "c@example.org"))


def test_a_send_past_its_deadline_after_data_is_unknown(scripted: Any) -> None:
    port = scripted(Scripted(stall=3))
    with pytest.raises(UnknownOutcome, match="SMTP_SEND_DEADLINE .* after DATA"):
        _send(SmtpSender(_settings(port, timeout=10, smtp_send_deadline=1)), _email())


def test_no_server_is_transient() -> None:
    with pytest.raises(TransientFailure):
        _send(SmtpSender(_settings(free_port(), timeout=2)), _email())


def test_starttls_with_a_trusted_self_signed_certificate(
    scripted: Any, certificate: Certificate
) -> None:
    handler = Scripted()
    port = scripted(handler, tls_context=certificate.server_context(), require_starttls=True)
    settings = _settings(port, smtp_tls="starttls", smtp_ca_file=certificate.cert)
    _send(SmtpSender(settings), _email(), _email())
    assert handler.received == [(["elise@example.org"], True)] * 2


def test_certificates_are_checked(scripted: Any, certificate: Certificate) -> None:
    handler = Scripted()
    port = scripted(handler, tls_context=certificate.server_context())
    with pytest.raises(TransientFailure, match="(?i)certificate"):
        _send(SmtpSender(_settings(port, smtp_tls="starttls")), _email())  # no SMTP_CA_FILE
    assert handler.received == []


def test_implicit_tls(scripted: Any, certificate: Certificate) -> None:
    handler = Scripted()
    port = scripted(handler, ssl_context=certificate.server_context())
    settings = _settings(port, smtp_tls="tls", smtp_ca_file=certificate.cert)
    _send(SmtpSender(settings), _email())
    assert handler.received == [(["elise@example.org"], True)]


def test_require_tls_refuses_a_server_without_starttls(scripted: Any) -> None:
    handler = Scripted()
    port = scripted(handler)
    strict = _settings(port, smtp_tls="starttls", smtp_require_tls=True)
    with pytest.raises(TransientFailure, match="STARTTLS"):
        _send(SmtpSender(strict), _email())
    assert handler.received == []
    with pytest.raises(TransientFailure, match="SMTP_REQUIRE_TLS"):
        _send(SmtpSender(_settings(port, smtp_tls="none", smtp_require_tls=True)), _email())
    # Without the requirement, STARTTLS is used when offered and the mail goes out otherwise.
    _send(SmtpSender(_settings(port, smtp_tls="starttls")), _email())
    assert handler.received == [(["elise@example.org"], False)]


def test_the_password_never_goes_in_clear_when_starttls_is_missing(scripted: Any) -> None:
    # A server (or a man-in-the-middle stripping STARTTLS) that offers AUTH in clear.
    handler = Scripted()
    tried: list[bytes] = []
    check = password_checker("rh", "s3cret")

    def authenticator(*args: Any) -> Any:
        tried.append(args[-1].password)
        return check(*args)

    port = scripted(handler, auth_require_tls=False, authenticator=authenticator)
    login = {"smtp_username": "rh", "smtp_password": "s3cret"}
    with pytest.raises(TransientFailure, match="SMTP_TLS=none"):
        _send(SmtpSender(_settings(port, smtp_tls="starttls", **login)), _email())
    assert tried == [], "the password was sent over a clear connection"
    assert handler.received == []
    # The operator who says SMTP_TLS=none explicitly accepts AUTH in clear.
    _send(SmtpSender(_settings(port, smtp_tls="none", **login)), _email())
    assert tried == [b"s3cret"]
    assert handler.received == [(["elise@example.org"], False)]


def test_auth_over_starttls(scripted: Any, certificate: Certificate) -> None:
    handler = Scripted()
    port = scripted(
        handler,
        tls_context=certificate.server_context(),
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=password_checker("rh", "s3cret"),
    )
    tls = {"smtp_tls": "starttls", "smtp_ca_file": certificate.cert, "smtp_username": "rh"}
    _send(SmtpSender(_settings(port, smtp_password="s3cret", **tls)), _email())
    assert handler.received == [(["elise@example.org"], True)]
    # Wrong credentials are our configuration's fault: retried once an operator fixes them.
    with pytest.raises(TransientFailure, match="535"):
        _send(SmtpSender(_settings(port, smtp_password="wrong", **tls)), _email())
    assert len(handler.received) == 1
