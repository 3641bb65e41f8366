"""A private Postfix instance on a loopback port, for the tests and the bench.

It runs (as root, like CI) from its own configuration directory with its own queue, so the
machine's Postfix, if any, is left alone. Only the loopback interface, no DNS.
"""

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
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from tests.mailbox import free_port

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


def runnable() -> bool:
    """Postfix is installed and we are root, as a private instance needs."""
    return postfix_command() is not None and os.geteuid() == 0


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


def _main_cf(root: Path, tls: tuple[Path, Path] | None, discard_domain: str | None) -> str:
    nobody = pwd.getpwnam("nobody")
    lines = f"""\
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
"""
    if tls is not None:
        cert, key = tls
        lines += f"""\
smtpd_tls_security_level = may
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
"""
    if discard_domain is not None:
        # Accepted (queued, as for any mail) and then thrown away: a sink for volume.
        lines += f"relay_domains = {discard_domain}\nrelay_transport = discard:\n"
        lines += "default_process_limit = 200\nsmtpd_client_connection_count_limit = 0\n"
    return lines


@contextmanager
def running_postfix(
    tls: tuple[Path, Path] | None = None, discard_domain: str | None = None
) -> Iterator[Postfix]:
    """Start a private instance: STARTTLS with the (cert, key) files if given; MAILBOX gets a
    Maildir; mail for `discard_domain` is accepted and discarded."""
    root = Path(tempfile.mkdtemp(prefix="recrue-postfix-"))
    root.chmod(0o755)  # the virtual delivery agent runs as nobody and must reach the Maildir
    config, mail = root / "etc", root / "mail"
    for folder in (config, root / "spool", mail):
        folder.mkdir()
    nobody = pwd.getpwnam("nobody")
    os.chown(mail, nobody.pw_uid, nobody.pw_gid)
    if tls is not None:
        # Postfix reads the key as root, before it drops privileges: a private copy is enough.
        own = (config / "cert.pem", config / "key.pem")
        shutil.copy(tls[0], own[0])
        shutil.copy(tls[1], own[1])
        tls = own
    port = free_port()
    (config / "main.cf").write_text(_main_cf(root, tls, discard_domain))
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
    raise AssertionError(f"Postfix did not listen on {server.port}:\n{server.read_log()}")


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
