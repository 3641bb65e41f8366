"""Senders: SMTP with aiosmtplib over a reused connection, or the embedded .eml file sink."""

import asyncio
import logging
import ssl
import time
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol

import aiosmtplib

from shared.settings import Settings

log = logging.getLogger(__name__)


class TransientFailure(Exception):
    """The server or the network said 'not now': try again later."""


class PermanentFailure(Exception):
    """The server refused the message for good (5xx)."""


class UnknownOutcome(Exception):
    """The connection broke after the message data was sent: it may have been delivered."""


class Sender(Protocol):
    async def send(self, message: EmailMessage) -> str:
        """Hand the message over; returns the server's answer."""
        ...


def _classify(exc: aiosmtplib.SMTPResponseException) -> Exception:
    text = f"{exc.code} {exc.message}"
    if 400 <= exc.code < 500:
        return TransientFailure(text)
    return PermanentFailure(text)


class SmtpSender:
    """Sends over one SMTP connection kept open between messages (one per worker process)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: aiosmtplib.SMTP | None = None

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_tls == "tls",
            start_tls=s.smtp_tls == "starttls",
            tls_context=ssl.create_default_context() if s.smtp_tls != "none" else None,
            timeout=s.smtp_timeout,
        )
        await client.connect()
        if s.smtp_username:
            await client.login(s.smtp_username, s.smtp_password)
        return client

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

    async def _envelope(self, client: aiosmtplib.SMTP, sender: str, recipients: list[str]) -> None:
        await client.mail(sender)
        for recipient in recipients:
            await client.rcpt(recipient)

    async def send(self, message: EmailMessage) -> str:
        sender = getaddresses([str(message["From"])])[0][1]
        recipients = [address for _, address in getaddresses(message.get_all("To", []))]
        try:
            client = await self._client_ready(fresh=False)
            try:
                await self._envelope(client, sender, recipients)
            except aiosmtplib.SMTPServerDisconnected:
                # The server closed the idle connection: nothing was sent, so reconnect once.
                client = await self._client_ready(fresh=True)
                await self._envelope(client, sender, recipients)
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            raise _classify(exc) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self.close()
            raise TransientFailure(f"{type(exc).__name__}: {exc}") from exc
        try:
            response = await client.data(message.as_bytes())
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            raise _classify(exc) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self.close()
            raise UnknownOutcome(f"{type(exc).__name__} after DATA: {exc}") from exc
        return f"{response.code} {response.message}"

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

    async def send(self, message: EmailMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        message_key = str(message["Message-ID"]).strip("<>").split("@")[0]
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{message_key}"
        path = self.folder / f"{stem}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bytes(message))
        tmp.rename(path)  # atomic: a reader never sees half a file
        return f"stored {path.name}"


_loop: asyncio.AbstractEventLoop | None = None
_senders: dict[int, Sender] = {}


def sender_for(settings: Settings) -> Sender:
    """SMTP when SMTP_HOST is set, else the embedded file sink in MAIL_DIR."""
    if settings.smtp_host:
        return SmtpSender(settings)
    return FileSender(settings.resolved_mail_dir)


def send_now(message: EmailMessage, settings: Settings) -> str:
    """Send on this process' own event loop and sender, so the connection is reused."""
    global _loop
    if _loop is None:
        _loop = asyncio.new_event_loop()
    sender = _senders.get(id(settings))
    if sender is None:
        sender = _senders[id(settings)] = sender_for(settings)
    return _loop.run_until_complete(sender.send(message))
