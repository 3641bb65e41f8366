"""A scripted SMTP server (aiosmtpd) for failure classes, TLS and AUTH; a test certificate."""

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from services.notifier.smtp import Outgoing
from tests.mailbox import free_port


@dataclass
class Scripted:
    """Answers RCPT and DATA as told.

    `refuse` answers some recipients differently; `stall` makes DATA hang past the client's
    timeout, `stall_rcpt` slows down each RCPT answer; `hang_up` closes the connection after
    the final "." without answering.
    """

    rcpt: str = "250 OK"
    data: str = "250 OK"
    stall: float = 0
    stall_rcpt: float = 0  # seconds before each RCPT answer
    refuse: dict[str, str] = field(default_factory=dict)
    hang_up: bool = False
    received: list[tuple[list[str], bool]] = field(default_factory=list)  # (rcpt_tos, over TLS)
    in_flight: int = 0  # DATA commands being answered right now
    most_at_once: int = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, _: Any
    ) -> str:
        if self.stall_rcpt:
            await asyncio.sleep(self.stall_rcpt)
        answer = self.refuse.get(address, self.rcpt)
        if answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return answer

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        over_tls = server.transport.get_extra_info("ssl_object") is not None
        self.received.append((list(envelope.rcpt_tos), over_tls))
        if self.hang_up:
            server.transport.abort()
            return "250 never sent: the connection is gone"
        self.in_flight += 1
        self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            if self.stall:
                await asyncio.sleep(self.stall)
        finally:
            self.in_flight -= 1
        return self.data


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, which no system trusts."""
    folder = tmp_path_factory.mktemp("tls")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    paths = Certificate(folder / "cert.pem", folder / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    paths.key.chmod(0o600)
    return paths


def password_checker(login: str, password: str) -> Callable[..., AuthResult]:
    """An aiosmtpd authenticator that accepts one login and password."""

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            login.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


@pytest.fixture
def scripted() -> Iterator[Callable[..., int]]:
    """Start a scripted server; keyword arguments go to aiosmtpd (tls_context, authenticator…)."""
    controllers: list[Controller] = []

    def start(handler: Scripted, **smtp: Any) -> int:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


def outgoing(message: EmailMessage) -> Outgoing:
    """A hand-written test message, with the envelope read from its From and To."""
    return Outgoing(
        sender=getaddresses([str(message["From"])])[0][1],
        recipients=[address for _, address in getaddresses(message.get_all("To", []))],
        message_id_header=str(message["Message-ID"]),
        subject=str(message["Subject"]),
        data=message.as_bytes(),
    )
