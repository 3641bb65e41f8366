"""Through a real MTA: our own Postfix on a loopback port, STARTTLS, delivering to a Maildir.

The test runs its own instance (as root, like CI) from a private configuration directory, with
its own queue, so the machine's Postfix, if any, is left alone. Only the loopback interface,
no DNS. The certificate is the test's self-signed one, trusted through SMTP_CA_FILE.
"""

import asyncio
import email
import email.policy
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.message import Message as MimeMessage
from pathlib import Path

import pytest

from services.notifier.render import compose, message_id
from services.notifier.smtp import Delivered, Outgoing, PermanentFailure, SmtpSender
from shared.emails import KINDS
from shared.models import Message
from shared.settings import Settings
from tests.mailbox import free_port
from tests.notifier.conftest import Certificate

pytestmark = pytest.mark.postfix

DOMAIN = "candidates.test"
MAILBOX = f"elise@{DOMAIN}"
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
tlsmgr    unix - - n 1000? 1 tlsmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
proxymap  unix - - n - - proxymap
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
virtual   unix - n n - - virtual
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def postfix_command() -> str | None:
    """The `postfix` command, also where root's PATH usually has it."""
    return shutil.which("postfix", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


@dataclass
class Postfix:
    config: Path
    port: int
    maildir: Path
    log: Path

    def postfix(self, *command: str) -> None:
        postfix = postfix_command()
        assert postfix is not None
        subprocess.run([postfix, "-c", str(self.config), *command], capture_output=True, timeout=60)

    def wait_for(self, count: int, timeout: float = 15) -> list[EmailMessage]:
        """The messages delivered to the Maildir, once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            files = sorted((self.maildir / "new").glob("*")) if self.maildir.exists() else []
            if len(files) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(files) >= count, f"{len(files)} delivered; Postfix log:\n{self.read_log()}"
        messages = []
        for path in files:
            parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            messages.append(parsed)
        return messages

    def read_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else "(no log)"


def _main_cf(root: Path, certificate: Certificate) -> str:
    nobody = pwd.getpwnam("nobody")
    return f"""\
compatibility_level = 3.6
queue_directory = {root / "spool"}
data_directory = {root / "data"}
maillog_file = {root / "maillog"}
maillog_file_prefixes = {root}
syslog_name = recrue-test-postfix
myhostname = mx.recrue.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = reject_unauth_destination
smtp_host_lookup = native
disable_dns_lookups = yes
alias_maps =
alias_database =
virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_base = {root / "mail"}
virtual_mailbox_maps = inline:{{ {MAILBOX}=inbox/ }}
virtual_uid_maps = static:{nobody.pw_uid}
virtual_gid_maps = static:{nobody.pw_gid}
smtpd_tls_security_level = may
smtpd_tls_cert_file = {certificate.cert}
smtpd_tls_key_file = {certificate.key}
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
"""


@pytest.fixture(scope="module")
def postfix(certificate: Certificate) -> Iterator[Postfix]:
    """A private Postfix instance, started and stopped by the test."""
    root = Path(tempfile.mkdtemp(prefix="recrue-postfix-"))
    root.chmod(0o755)  # the virtual delivery agent runs as nobody and must reach the Maildir
    config, mail = root / "etc", root / "mail"
    for folder in (config, root / "spool", mail):
        folder.mkdir()
    nobody = pwd.getpwnam("nobody")
    os.chown(mail, nobody.pw_uid, nobody.pw_gid)
    # Postfix reads the key as root, before it drops privileges: a private copy is enough.
    own = Certificate(config / "cert.pem", config / "key.pem")
    shutil.copy(certificate.cert, own.cert)
    shutil.copy(certificate.key, own.key)
    port = free_port()
    (config / "main.cf").write_text(_main_cf(root, own))
    (config / "master.cf").write_text(MASTER_CF.format(port=port))
    server = Postfix(config, port, mail / "inbox", root / "maillog")
    server.postfix("start")
    try:
        _wait_until_listening(server)
        yield server
    finally:
        server.postfix("stop")
        _wait_until_stopped(root)
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_listening(server: Postfix, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"Postfix did not listen on {server.port}:\n{server.read_log()}")


def _wait_until_stopped(root: Path, timeout: float = 10) -> None:
    pid_file = root / "spool" / "pid" / "master.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


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


def _send(settings: Settings, message: MimeMessage) -> Delivered:
    async def run() -> Delivered:
        sender = SmtpSender(settings)
        try:
            return await sender.send(Outgoing.of(message))
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
    assert received["Message-ID"] == message_id("invitation:postfix:0", settings.mail_from)
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
    delivered = _send(settings, message)
    assert list(delivered.refused) == [f"nobody@{DOMAIN}"]
    assert delivered.refused[f"nobody@{DOMAIN}"].startswith("550 5.1.1")
    delivered_now = postfix.wait_for(before + 1)
    assert [m["Subject"] for m in delivered_now].count("Deux destinataires") == 1

    message.replace_header("To", "someone@elsewhere.test")  # not ours to relay
    with pytest.raises(PermanentFailure, match="554 5.7.1"):
        _send(settings, message)
