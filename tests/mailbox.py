"""An in-process SMTP server (aiosmtpd) that keeps what it receives, for tests and the bench."""

import email
import email.policy
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    at: float
    peer: object = None


@dataclass
class Mailbox:
    messages: list[Received] = field(default_factory=list)
    connections: int = 0
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, received: Received) -> None:
        with self._changed:
            self.messages.append(received)
            self._changed.notify_all()

    def clear(self) -> None:
        with self._changed:
            self.messages.clear()
            self.connections = 0

    def wait_for(
        self,
        count: int,
        timeout: float = 30.0,
        where: Callable[[Received], bool] | None = None,
    ) -> list[Received]:
        """Wait until `count` matching messages arrived; fail with what did arrive otherwise."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                # Woken at every message: without a filter, no pass over all of them each time.
                found = list(self.messages) if where is None else list(filter(where, self.messages))
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    subjects = [str(m.message["Subject"]) for m in self.messages]
                    raise AssertionError(f"expected {count} emails, got {subjects}")
                self._changed.wait(left)


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.mailbox.add(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                message=message,
                at=time.time(),
                peer=session.peer,
            )
        )
        return "250 2.0.0 Ok: queued"


class _CountingSMTP(SMTP):
    def __init__(self, *args: object, mailbox: Mailbox, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._mailbox = mailbox

    def connection_made(self, transport: object) -> None:
        self._mailbox.connections += 1
        super().connection_made(transport)  # type: ignore[arg-type]


class _Controller(Controller):
    def __init__(self, mailbox: Mailbox, **kwargs: object) -> None:
        self._mailbox = mailbox
        super().__init__(_Handler(mailbox), **kwargs)  # type: ignore[arg-type]

    def factory(self) -> SMTP:
        return _CountingSMTP(self.handler, mailbox=self._mailbox, **self.SMTP_kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """aiosmtpd on a free loopback port."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self._controller = _Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
