"""`recrue run` on the embedded default, as a new user starts it: no servers at all."""

import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from tests.e2e.slice import (
    apply_and_validate,
    assert_invitation,
    assert_validation_email,
    invite_to_written_trial,
)
from tests.mailbox import free_port

pytestmark = pytest.mark.e2e

EMBEDDED = ("DATABASE_URL", "BROKER_URL", "SMTP_HOST", "MAIL_DIR", "MAIL_FROM", "SECRET_KEY")


def _wait_for_line(log: Path, text: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        time.sleep(0.2)
    raise AssertionError(f"'{text}' never printed:\n{log.read_text(errors='replace')[-3000:]}")


def _emails(folder: Path, count: int, timeout: float = 30) -> list[EmailMessage]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(folder.glob("*.eml")) if folder.exists() else []
        if len(files) >= count:
            break
        time.sleep(0.2)
    messages = []
    for path in sorted(folder.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    assert len(messages) == count, [str(m["Subject"]) for m in messages]
    return messages


def test_recrue_run_serves_the_slice_and_writes_the_mail(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in EMBEDDED}
    env.update(VAR_DIR=str(tmp_path / "var"), API_PORT=str(port), PYTHONUNBUFFERED="1")
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_line(log, "Ctrl-C stops everything", run, timeout=90)
        printed = log.read_text()
        mail_dir = tmp_path / "var" / "mail"
        assert f"http://127.0.0.1:{port}/docs" in printed
        assert str(mail_dir) in printed
        assert "create-api-key" in printed

        key = subprocess.run(
            [
                sys.executable,
                "-m",
                "services.cli",
                "create-api-key",
                "--name",
                "me",
                "--role",
                "hr",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert http.get("/readyz").status_code == 200

        job_id, dossier_id = apply_and_validate(http, "elise@example.org", "EMB-1")
        [validated] = _emails(mail_dir, 1)
        assert_validation_email(validated)
        participation_id = invite_to_written_trial(http, job_id, dossier_id)
        invitation = next(
            m
            for m in _emails(mail_dir, 2)
            if m is not validated and "Convocation" in str(m["Subject"])
        )
        assert_invitation(invitation, participation_id, "elise@example.org")
        assert (tmp_path / "var" / "recrue.db").exists()
        # No SECRET_KEY: one was generated (0600) and the scheduler signed with it what the
        # api now accepts.
        assert (tmp_path / "var" / "secret-key").stat().st_mode & 0o777 == 0o600
        text = next(p for p in invitation.walk() if p.get_content_type() == "text/plain")
        assert isinstance(text, EmailMessage)
        signed = re.findall(r"https?://\S+/c/(?!privacy/)([A-Za-z0-9_.\-]+)", text.get_content())
        assert signed, "the invitation carries the candidate's links"
        assert http.get(f"/c/{signed[0]}").status_code == 200
    finally:
        children = _children(run.pid)
        run.send_signal(signal.SIGINT)
        try:
            run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            run.kill()
            raise AssertionError("recrue run did not stop on Ctrl-C") from None
    assert run.returncode == 0
    assert len(children) == 4, "api, notifier, scheduler and beat"
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()], "all stopped"


def _children(pid: int) -> list[int]:
    """Direct children of `pid`, read from /proc (no procps needed)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children
