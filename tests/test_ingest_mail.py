"""`recrue ingest-mail` as an MTA's pipe transport runs it: a process of its own, one email on
its standard input, the exit status for the MTA (0 handled or ignored; 65 no email)."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.itip import Answer, auto_reply, email_of, malformed
from tests.replies_flow import invited, participation_of

ROOT = Path(__file__).resolve().parent.parent


def _ingest(raw: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "ingest-mail"],
        input=raw,
        capture_output=True,
        cwd=ROOT,
        env=dict(os.environ),  # the run's database, broker and key
        timeout=120,
    )


def test_answers_through_the_pipe(client: Any, build: Any, hr: dict[str, str]) -> None:
    job, dossier, candidate, p = invited(build, client, hr)
    uid = f"{p['id']}@recrue"
    forged = Answer(
        uid=uid, sequence=p["sequence"], email=candidate["email"], sender="mallory@example.net"
    )
    counter = Answer(
        uid=uid,
        sequence=p["sequence"],
        email=candidate["email"],
        method="COUNTER",
        partstat="TENTATIVE",
        proposed=_proposal(),
    )
    decline = Answer(uid=uid, sequence=p["sequence"], email=candidate["email"], partstat="DECLINED")

    outputs = [
        _ingest(raw)
        for raw in (
            email_of(forged, "outlook"),
            auto_reply(),
            malformed(candidate["email"]),
            email_of(counter, "outlook"),
            email_of(decline, "apple"),
            email_of(decline, "apple"),
        )
    ]

    assert [o.returncode for o in outputs] == [0] * 6, [o.stderr for o in outputs]
    assert [o.stdout.decode().strip() for o in outputs] == [
        "ignored: wrong_sender",
        "ignored: not_calendar",
        "ignored: malformed",
        "handled: counter",
        "handled: declined",
        "handled: unchanged",
    ]
    assert participation_of(client, hr, p)["status"] == "declined"
    notices = client.get(f"/api/v1/notices?job_id={job['id']}", headers=hr).json()["items"]
    assert [n["action"] for n in notices] == ["calendar_counter"]


def test_what_is_no_email_is_refused() -> None:
    done = _ingest(b"")
    assert done.returncode == 65
    assert b"not an email" in done.stderr


def _proposal() -> Any:
    from datetime import UTC, datetime, timedelta

    start = datetime(2027, 3, 29, 8, 0, tzinfo=UTC)
    return (start, start + timedelta(hours=2))
