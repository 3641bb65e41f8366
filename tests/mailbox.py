"""An in-process SMTP server (aiosmtpd) that keeps what it receives, for tests and the bench.

Its `faults` make it misbehave on purpose (the chaos suite): a 421 or 451 to every MAIL FROM
while a fault window is open, a chosen answer to chosen recipients at RCPT or after the data,
or the data kept and never answered.
"""

import asyncio
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
    answered: bool = True  # False: the server kept the data and never answered (a hang)

    def calendar(self) -> bytes:
        """The bytes of the email's text/calendar part."""
        part = next(p for p in self.message.walk() if p.get_content_type() == "text/calendar")
        return bytes(part.get_payload(decode=True))


Rule = Callable[[str], str | None]  # a recipient's address -> an SMTP answer, or None: accept


@dataclass
class Faults:
    """What the server answers instead of 250. Every field may change while the server runs.

    - `mail`: the answer to every MAIL FROM (e.g. "421 4.3.2 Service shutting down");
    - `rcpt`: per recipient, the answer to RCPT TO (e.g. "550 5.1.1 No such user");
    - `data`: per message (its first recipient), the answer after the data instead of 250:
      the message is not kept (e.g. "554 5.7.1 Rejected");
    - `hang_after_data`: per message, keep the data (it may be delivered) and never answer;
      the connection is held for `hang_seconds`;
    - `delay_seconds`: how long the server takes to accept each message (a slow relay).
    """

    mail: str | None = None
    rcpt: Rule | None = None
    data: Rule | None = None
    hang_after_data: Callable[[str], bool] | None = None
    hang_seconds: float = 120.0
    delay_seconds: float = 0.0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (address, answer) given

    def clear(self) -> None:
        self.mail = self.rcpt = self.data = self.hang_after_data = None
        self.delay_seconds = 0.0
        self.refused.clear()


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
    def __init__(self, mailbox: Mailbox, faults: Faults) -> None:
        self.mailbox = mailbox
        self.faults = faults

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.faults.mail is not None:
            self.faults.refused.append(("", self.faults.mail))
            return self.faults.mail
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        answer = self.faults.rcpt(address) if self.faults.rcpt else None
        if answer is not None:
            self.faults.refused.append((address, answer))
            return answer
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        first = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        answer = self.faults.data(first) if self.faults.data else None
        if answer is not None:
            self.faults.refused.append((first, answer))
            return answer
        hang = bool(self.faults.hang_after_data and self.faults.hang_after_data(first))
        if self.faults.delay_seconds:
            await asyncio.sleep(self.faults.delay_seconds)
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
                answered=not hang,
            )
        )
        if hang:  # the data is kept: it may go on to the recipient, but the client never knows
            await asyncio.sleep(self.faults.hang_seconds)
            return "451 4.4.2 Timed out"
        return "250 2.0.0 Ok: queued"


class _CountingSMTP(SMTP):
    def __init__(self, *args: object, mailbox: Mailbox, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._mailbox = mailbox

    def connection_made(self, transport: object) -> None:
        self._mailbox.connections += 1
        super().connection_made(transport)  # type: ignore[arg-type]


class _Controller(Controller):
    def __init__(self, mailbox: Mailbox, faults: Faults, **kwargs: object) -> None:
        self._mailbox = mailbox
        super().__init__(_Handler(mailbox, faults), **kwargs)  # type: ignore[arg-type]

    def factory(self) -> SMTP:
        return _CountingSMTP(self.handler, mailbox=self._mailbox, **self.SMTP_kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """aiosmtpd on a free loopback port; `faults` make it misbehave on purpose."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.faults = Faults()
        self.port = free_port()
        self._controller = _Controller(
            self.mailbox, self.faults, hostname="127.0.0.1", port=self.port
        )

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
