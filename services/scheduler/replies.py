"""Beat's poll of the HR mailbox over IMAP: each new email goes through `shared.replies`.

A handled answer is flagged (`\\Seen $RecrueHandled`) and moved to REPLIES_IMAP_DONE_FOLDER
(UID MOVE, or COPY + STORE \\Deleted + EXPUNGE where the server has no MOVE). Anything else is
left in the folder, marked with the keyword `$RecrueIgnored` so that it is read once (HR's own
mail stays where it was, unread). Two beats, or a crash between the database's commit and the
move, may read one email twice: the answer is applied once anyway (shared/replies.py).
"""

import base64
import imaplib
import logging
import ssl
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from shared import replies
from shared.outbox import Publish
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

HANDLED = "$RecrueHandled"
IGNORED = "$RecrueIgnored"
BATCH = 200  # emails per poll at most: the next poll takes the rest


@dataclass
class Polled:
    handled: int = 0
    ignored: int = 0


def utf7_folder(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3): "Traités" is "Trait&AOk-s"."""
    out: list[str] = []
    pending = ""

    def flush() -> None:
        nonlocal pending
        if pending:
            encoded = base64.b64encode(pending.encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + encoded.replace("/", ",") + "-")
            pending = ""

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending += char
    flush()
    return "".join(out)


def _quote(folder: str) -> str:
    return '"' + utf7_folder(folder).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _context(settings: Settings) -> ssl.SSLContext:
    """Certificates and host names verified, always (plus REPLIES_IMAP_CA_FILE if set)."""
    context = ssl.create_default_context()
    if settings.replies_imap_ca_file:
        context.load_verify_locations(cafile=str(settings.replies_imap_ca_file))
    return context


def connect(settings: Settings) -> imaplib.IMAP4:
    """A logged-in connection to the replies mailbox, every command bounded by a timeout."""
    host, port, timeout = (
        settings.replies_imap_host,
        settings.replies_imap_port,
        settings.replies_imap_timeout,
    )
    connection: imaplib.IMAP4
    if settings.replies_imap_tls == "tls":
        connection = imaplib.IMAP4_SSL(host, port, ssl_context=_context(settings), timeout=timeout)
    else:
        connection = imaplib.IMAP4(host, port, timeout=timeout)
        if settings.replies_imap_tls == "starttls":
            connection.starttls(ssl_context=_context(settings))  # refused: an error, no login
    try:
        connection.login(settings.replies_imap_username, settings.replies_imap_password)
    except BaseException:
        connection.shutdown()
        raise
    return connection


def _ensure_folder(connection: imaplib.IMAP4, folder: str) -> None:
    status, listed = connection.list('""', _quote(folder))
    if status == "OK" and any(item for item in listed if item):
        return
    status, answer = connection.create(_quote(folder))
    if status != "OK":  # another beat may have created it meanwhile
        status, listed = connection.list('""', _quote(folder))
        if not (status == "OK" and any(item for item in listed if item)):
            raise imaplib.IMAP4.error(f"cannot create the folder {folder!r}: {answer!r}")


def _body(data: list[object]) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def poll(*, publish: Publish, settings: Settings | None = None) -> Polled:
    """Read the new emails of REPLIES_IMAP_FOLDER once; returns how many were handled (moved)
    and ignored (left, marked)."""
    settings = settings or get_settings()
    polled = Polled()
    if not settings.replies_imap_host:
        return polled
    connection = connect(settings)
    try:
        done = settings.replies_imap_done_folder
        _ensure_folder(connection, done)
        status, answer = connection.select(_quote(settings.replies_imap_folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open {settings.replies_imap_folder!r}: {answer!r}")
        status, listed = connection.capability()  # after login: MOVE, UIDPLUS...
        capabilities = {c.upper() for c in connection.capabilities}
        if status == "OK" and listed and isinstance(listed[0], bytes):
            capabilities |= {c.upper() for c in listed[0].decode().split()}
        status, found = connection.uid("SEARCH", "UNDELETED", "UNKEYWORD", IGNORED)
        uids = found[0].split()[:BATCH] if status == "OK" and found and found[0] else []
        for uid in uids:
            number = uid.decode()
            status, data = connection.uid("FETCH", number, "(BODY.PEEK[])")
            raw = _body(data) if status == "OK" else None
            if raw is None:
                continue  # expunged meanwhile (another beat moved it)
            outcome = _ingest(raw, publish)
            if outcome is not None and outcome.handled:
                _move(connection, number, done, capabilities)
                polled.handled += 1
            else:
                connection.uid("STORE", number, "+FLAGS", f"({IGNORED})")
                polled.ignored += 1
        return polled
    finally:
        try:
            connection.logout()
        except (OSError, imaplib.IMAP4.error):
            connection.shutdown()


def _ingest(raw: bytes, publish: Publish) -> replies.Outcome | None:
    """The email's outcome, or None if it cannot be read at all. A database that does not
    answer stops the poll (the email stays as it was, for the next poll); any other error is
    this email's: it is logged and left marked, never read again in a loop."""
    try:
        return replies.ingest(raw, publish=publish)
    except replies.Unreadable:
        return None
    except (SQLAlchemyError, OSError):
        raise
    except Exception:
        log.exception("an email of the replies mailbox could not be applied; left there")
        replies.count("error")
        return None


def _move(connection: imaplib.IMAP4, uid: str, folder: str, capabilities: set[str]) -> None:
    connection.uid("STORE", uid, "+FLAGS", f"(\\Seen {HANDLED})")
    if "MOVE" in capabilities:
        status, answer = connection.uid("MOVE", uid, _quote(folder))
        if status != "OK":
            log.warning("UID MOVE %s refused: %r", uid, answer)
        return
    status, answer = connection.uid("COPY", uid, _quote(folder))
    if status != "OK":
        log.warning("UID COPY %s refused: %r", uid, answer)
        return
    connection.uid("STORE", uid, "+FLAGS", "(\\Deleted)")
    if "UIDPLUS" in capabilities:
        connection.uid("EXPUNGE", uid)
    else:
        connection.expunge()
