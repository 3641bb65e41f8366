"""A private Dovecot (IMAP) on a loopback port: the HR mailbox that calendar answers reach.

It runs in the foreground (as root, like CI: Dovecot drops to its own users) from its own
configuration under a temporary folder, with its own passwd-file and Maildirs, so the machine's
Dovecot, if any, is left alone. Plain login over loopback only; with `tls`, implicit TLS on the
port with the test's certificate. Debian: `apt-get install dovecot-imapd` (`.ci/run` installs it
without starting the package's own service).
"""

import imaplib
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
from pathlib import Path

from services.scheduler.replies import utf7_folder
from tests.mailbox import free_port

USERNAME = "rh@commune.example"
PASSWORD = "imap-test-password-1"


def dovecot_command() -> str | None:
    """The `dovecot` binary, also where root's PATH usually has it."""
    return shutil.which("dovecot", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def runnable() -> bool:
    """Dovecot's IMAP server is installed, its users exist, and we are root."""
    if dovecot_command() is None or os.geteuid() != 0:
        return False
    if not Path("/usr/lib/dovecot/imap").exists():
        return False
    try:
        pwd.getpwnam("dovecot")
        pwd.getpwnam("dovenull")
    except KeyError:
        return False
    return True


@dataclass
class Dovecot:
    root: Path
    port: int
    log: Path

    def connect(self) -> imaplib.IMAP4:
        connection = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        connection.login(USERNAME, PASSWORD)
        return connection

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver one email, as an MTA's delivery agent would."""
        connection = self.connect()
        try:
            status, answer = connection.append(f'"{utf7_folder(folder)}"', "", None, raw)
            assert status == "OK", answer
        finally:
            connection.logout()

    def messages(self, folder: str) -> list[tuple[set[str], bytes]]:
        """(flags, bytes) of every email of the folder ([] if it does not exist)."""
        connection = self.connect()
        try:
            status, _ = connection.select(f'"{utf7_folder(folder)}"', readonly=True)
            if status != "OK":
                return []
            status, found = connection.uid("SEARCH", "ALL")
            out = []
            for uid in found[0].split():
                status, data = connection.uid("FETCH", uid.decode(), "(FLAGS BODY.PEEK[])")
                head, body = data[0]  # type: ignore[misc]
                flags = imaplib.ParseFlags(head)
                out.append(({f.decode() for f in flags}, body))
            return out
        finally:
            connection.logout()

    def read_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else "(no log)"


def _config(root: Path, port: int, tls: tuple[Path, Path] | None) -> str:
    nobody = pwd.getpwnam("nobody")
    ssl = "ssl = no\n"
    listener = f"inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}"
    listener += "\n  inet_listener imaps {\n    port = 0\n  }"
    if tls is not None:
        ssl = f"ssl = required\nssl_cert = <{tls[0]}\nssl_key = <{tls[1]}\n"
        listener = "inet_listener imap {\n    port = 0\n  }"
        listener += (
            f"\n  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {port}\n"
            "    ssl = yes\n  }"
        )
    return f"""\
instance_name = recrue-test-dovecot
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={nobody.pw_uid} gid={nobody.pw_gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  {listener}
}}
service anvil {{
  chroot =
}}
"""


@contextmanager
def running_dovecot(tls: tuple[Path, Path] | None = None) -> Iterator[Dovecot]:
    """Start a private Dovecot with one mailbox (USERNAME, PASSWORD); stop it afterwards."""
    command = dovecot_command()
    assert command is not None
    root = Path(tempfile.mkdtemp(prefix="recrue-dovecot-"))
    root.chmod(0o755)  # Dovecot's own users read the passwd-file, the mail user its home
    nobody = pwd.getpwnam("nobody")
    home = root / "home"
    home.mkdir()
    os.chown(home, nobody.pw_uid, nobody.pw_gid)
    if tls is not None:
        own = (root / "cert.pem", root / "key.pem")
        shutil.copy(tls[0], own[0])
        shutil.copy(tls[1], own[1])
        tls = own
    (root / "passwd").write_text(f"{USERNAME}:{{PLAIN}}{PASSWORD}::::::\n")
    (root / "passwd").chmod(0o644)
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(_config(root, port, tls))
    server = Dovecot(root, port, root / "dovecot.log")
    process = subprocess.Popen(
        [command, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_until_listening(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_listening(server: Dovecot, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise AssertionError(f"Dovecot exited: {output}\n{server.read_log()}")
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"Dovecot did not listen on {server.port}:\n{server.read_log()}")
