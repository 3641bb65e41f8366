"""Senders: SMTP with aiosmtplib, up to SMTP_CONNECTIONS connections per notifier process kept
open between tasks (a SenderPool, messages sent at once), or the embedded .eml file sink.

Failures are classified as RFC 5321 suggests:
- a 4xx answer, or a connection error or timeout before the message data was sent: transient;
- a connection error, a 421 or our own settings: the server is unavailable (transient, and the
  messages after this one wait for the retry rather than try in turn);
- a 5xx answer: permanent, except the answers that mean our own configuration is wrong (AUTH
  refused, TLS or authentication required), which are transient so that mail goes out once
  the operator fixes it;
- a disconnect or timeout after the final "." of the data: unknown, the message may have left.
"""

import asyncio
import logging
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiosmtplib

from shared.settings import Settings

log = logging.getLogger(__name__)

# 530 authentication or STARTTLS required, 534 mechanism too weak, 535 credentials invalid,
# 538 encryption required (RFC 3207, RFC 4954): our settings are wrong, not the message.
CONFIGURATION_CODES = frozenset({530, 534, 535, 538})


class SendFailure(Exception):
    """Not delivered; `refused` holds each refused recipient's answer, when there were any."""

    def __init__(self, text: str, refused: dict[str, str] | None = None) -> None:
        super().__init__(text)
        self.refused = refused or {}


class TransientFailure(SendFailure):
    """The server or the network said 'not now', or our SMTP settings need fixing: try later."""


class ServerUnavailable(TransientFailure):
    """Nothing can go out now (unreachable, closing, or our settings are wrong), whatever the
    message: the messages after this one wait for a retry instead of trying in turn."""


class PermanentFailure(SendFailure):
    """The server refused the message for good (5xx)."""


class UnknownOutcome(Exception):
    """The connection broke after the message data was sent: it may have been delivered."""


@dataclass(frozen=True)
class Delivered:
    """The server's answer to the data, and the recipients it refused (the others got it)."""

    response: str
    refused: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        if not self.refused:
            return self.response
        return f"{self.response}; refused: {_describe(self.refused)}"


@dataclass(frozen=True)
class Outgoing:
    """What a sender hands over: the envelope, the Message-ID, the subject (as written in the
    message row) and the message's bytes."""

    sender: str
    recipients: list[str]
    message_id_header: str  # the RFC 5322 Message-ID, not a message row's id
    subject: str
    data: bytes


class Sender(Protocol):
    async def send(self, message: Outgoing) -> Delivered:
        """Hand the message over; returns what the server answered."""
        ...


def _answer(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {exc.message}"


def _describe(refused: dict[str, str]) -> str:
    return "; ".join(f"{answer} (for {recipient})" for recipient, answer in refused.items())


def _classify(exc: aiosmtplib.SMTPResponseException) -> SendFailure:
    text = _answer(exc)
    if exc.code in CONFIGURATION_CODES:
        return ServerUnavailable(f"{text} (check the SMTP_* settings)")
    if exc.code == 421:  # the service is closing the connection
        return ServerUnavailable(text)
    if 400 <= exc.code < 500:
        return TransientFailure(text)
    return PermanentFailure(text)


def _all_refused(refused: dict[str, str]) -> SendFailure:
    text = _describe(refused)
    if any(answer.startswith("4") for answer in refused.values()):
        return TransientFailure(text, refused)  # a later try may reach those
    return PermanentFailure(text, refused)


def tls_context(settings: Settings) -> ssl.SSLContext:
    """Certificates and host names are always checked; SMTP_CA_FILE adds authorities to trust."""
    context = ssl.create_default_context()
    if settings.smtp_ca_file:
        context.load_verify_locations(cafile=str(settings.smtp_ca_file))
    return context


class SmtpSender:
    """Sends over one SMTP connection kept open between messages; each notifier process keeps
    SMTP_CONNECTIONS of them busy at once (`SenderPool`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: aiosmtplib.SMTP | None = None

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        if s.smtp_require_tls and s.smtp_tls == "none":
            raise ServerUnavailable("SMTP_REQUIRE_TLS is set but SMTP_TLS is 'none'")
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_tls == "tls",
            start_tls=False,  # decided below, so that require-TLS is ours to enforce
            tls_context=tls_context(s) if s.smtp_tls != "none" else None,
            timeout=s.smtp_timeout,
        )
        await client.connect()
        try:
            if s.smtp_tls == "starttls":
                await self._starttls(client)
            if s.smtp_username:
                await client.login(s.smtp_username, s.smtp_password)
        except BaseException:
            client.close()
            raise
        return client

    async def _starttls(self, client: aiosmtplib.SMTP) -> None:
        try:
            await client.ehlo()
        except aiosmtplib.SMTPHeloError:
            await client.helo()
        if client.supports_extension("starttls"):
            await client.starttls()
        elif self.settings.smtp_require_tls:
            raise ServerUnavailable(
                f"{self.settings.smtp_host}:{self.settings.smtp_port} offers no STARTTLS and "
                "SMTP_REQUIRE_TLS forbids sending in clear"
            )
        elif self.settings.smtp_username:
            # Perhaps a man-in-the-middle stripped STARTTLS: the password never goes in clear
            # unless the operator chose SMTP_TLS=none.
            raise ServerUnavailable(
                f"{self.settings.smtp_host}:{self.settings.smtp_port} offers no STARTTLS: the "
                "SMTP password is not sent in clear (SMTP_TLS=starttls); fix the server, or set "
                "SMTP_TLS=none to allow AUTH without TLS"
            )
        else:
            log.warning("%s offers no STARTTLS: sending in clear", self.settings.smtp_host)

    async def _client_ready(self, fresh: bool) -> aiosmtplib.SMTP:
        if fresh or self._client is None or not self._client.is_connected:
            await self.close()
            self._client = await self._connect()
        return self._client

    async def close(self) -> None:
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.quit()
            except aiosmtplib.SMTPException:
                self._client.close()
        self._client = None

    async def _envelope(
        self, client: aiosmtplib.SMTP, sender: str, recipients: list[str]
    ) -> dict[str, str]:
        """MAIL and one RCPT per recipient; returns the refused ones with their answers."""
        await client.mail(sender)
        refused: dict[str, str] = {}
        for recipient in recipients:
            try:
                await client.rcpt(recipient)
            except aiosmtplib.SMTPRecipientRefused as exc:
                if exc.code == 421:  # the server is closing the connection: nothing more to try
                    raise
                refused[recipient] = _answer(exc)
        return refused

    async def send(self, message: Outgoing) -> Delivered:
        sender, recipients = message.sender, message.recipients
        # One deadline for the whole send, however slowly a server drips its answers.
        deadline = asyncio.get_running_loop().time() + self.settings.smtp_send_deadline
        try:
            async with asyncio.timeout_at(deadline):
                client = await self._client_ready(fresh=False)
                try:
                    refused = await self._envelope(client, sender, recipients)
                except aiosmtplib.SMTPServerDisconnected:
                    # The server closed the idle connection: nothing was sent, so reconnect once.
                    client = await self._client_ready(fresh=True)
                    refused = await self._envelope(client, sender, recipients)
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            raise _classify(exc) from exc
        except TransientFailure:
            await self.close()
            raise
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self.close()
            raise ServerUnavailable(self._failure(exc)) from exc
        if len(refused) == len(recipients):
            await self._reset()
            raise _all_refused(refused)
        try:
            async with asyncio.timeout_at(deadline):
                response = await client.data(message.data)
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            raise _classify(exc) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self.close()
            raise UnknownOutcome(f"{self._failure(exc)} after DATA") from exc
        return Delivered(f"{response.code} {response.message}", refused)

    def _failure(self, exc: BaseException) -> str:
        if isinstance(exc, TimeoutError) and not str(exc):  # our own deadline
            return f"no answer within SMTP_SEND_DEADLINE ({self.settings.smtp_send_deadline:g} s)"
        return f"{type(exc).__name__}: {exc}"

    async def _reset(self) -> None:
        try:
            if self._client is not None and self._client.is_connected:
                await self._client.rset()
        except (aiosmtplib.SMTPException, OSError):
            await self.close()


class FileSender:
    """The embedded sink: every email becomes a .eml file in MAIL_DIR."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, message: Outgoing) -> Delivered:
        self.folder.mkdir(parents=True, exist_ok=True)
        message_key = message.message_id_header.strip("<>").split("@")[0]
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{message_key}"
        path = self.folder / f"{stem}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(message.data)
        tmp.rename(path)  # atomic: a reader never sees half a file
        return Delivered(f"stored {path.name}")


class SenderPool:
    """Several senders, each with its own connection, shared by the messages sent at once.

    Once one of them finds the server unavailable, the messages of the same batch still waiting
    for a sender are not tried: they fail the same way, and wait for the retry."""

    def __init__(self, senders: list[Sender]) -> None:
        self._senders = senders
        self._idle: asyncio.Queue[Sender] | None = None
        self._unavailable: ServerUnavailable | None = None

    async def send_all(self, messages: Sequence[Outgoing]) -> list[Delivered | BaseException]:
        """Each message's answer or exception. A batch starts with the server presumed up."""
        self._unavailable = None
        return await asyncio.gather(*(self._send(m) for m in messages), return_exceptions=True)

    async def _send(self, message: Outgoing) -> Delivered:
        if self._idle is None:
            self._idle = asyncio.Queue()
            for sender in self._senders:
                self._idle.put_nowait(sender)
        sender = await self._idle.get()
        try:
            if self._unavailable is not None:
                raise ServerUnavailable(f"not sent: {self._unavailable}")
            return await sender.send(message)
        except ServerUnavailable as exc:
            self._unavailable = self._unavailable or exc
            raise
        finally:
            self._idle.put_nowait(sender)


_loop: asyncio.AbstractEventLoop | None = None
_pools: dict[str, SenderPool] = {}  # by settings, so that a change of them takes effect


def sender_for(settings: Settings) -> Sender:
    """SMTP when SMTP_HOST is set, else the embedded file sink in MAIL_DIR."""
    if settings.smtp_host:
        return SmtpSender(settings)
    return FileSender(settings.resolved_mail_dir)


def send_all(messages: Sequence[Outgoing], settings: Settings) -> list[Delivered | BaseException]:
    """Send the messages at once over up to SMTP_CONNECTIONS connections of this process, kept
    open between calls on the process' own event loop; each message's answer or exception."""
    global _loop
    if _loop is None:
        _loop = asyncio.new_event_loop()
    key = settings.model_dump_json()
    pool = _pools.get(key)
    if pool is None:
        senders = [sender_for(settings) for _ in range(settings.smtp_connections)]
        pool = _pools[key] = SenderPool(senders)
    return _loop.run_until_complete(pool.send_all(messages))
