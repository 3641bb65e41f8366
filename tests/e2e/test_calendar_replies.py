"""Answers through the calendar, end to end: the real stack (api, both workers, two beats)
polling a real Dovecot. The candidates' invitations come from the SMTP server; their answers,
shaped as Outlook, Gmail, Apple Calendar and Thunderbird send them, plus a forged one, are
delivered to the HR mailbox by IMAP APPEND. Each is applied once."""

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.dovecot import PASSWORD, USERNAME, Dovecot, running_dovecot
from tests.e2e.test_trials_flow import BRUSSELS_10H, _calendar, _hr, _participations, _setup, _to
from tests.itip import Answer, email_of
from tests.mailbox import Mailbox, SmtpServer
from tests.stack import Stack, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.dovecot]
DONE = "Recrue-Done"
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with running_dovecot() as server:
        yield server


@pytest.fixture(scope="module")
def stack(smtp_server: SmtpServer, dovecot: Dovecot, tmp_path_factory: Any) -> Iterator[Stack]:
    """The stack of tests/e2e/conftest.py, its beat polling the test's Dovecot every second."""
    stack = start_stack(
        tmp_path_factory.mktemp("logs"),
        smtp_server.port,
        REPLIES_IMAP_HOST="127.0.0.1",
        REPLIES_IMAP_PORT=str(dovecot.port),
        REPLIES_IMAP_USERNAME=USERNAME,
        REPLIES_IMAP_PASSWORD=PASSWORD,
        REPLIES_IMAP_TLS="none",
        REPLIES_IMAP_DONE_FOLDER=DONE,
        REPLIES_POLL_SECONDS="1",
    )
    yield stack
    stack.stop()


def test_calendar_answers_through_imap_with_two_beats(
    stack: Stack, dovecot: Dovecot, mailbox: Mailbox, tmp_path: Any
) -> None:
    stack.start("beat-2", "beat", "--schedule", str(tmp_path / "second-beat"))
    try:
        http = _hr(stack)
        trial, dossiers, invitations = _setup(
            http,
            mailbox,
            4,
            starts_at=BRUSSELS_10H,
            duration_minutes=60,
            response_deadline="2027-06-01T12:00:00+02:00",
        )
        answers = [("ACCEPTED", "outlook"), ("DECLINED", "gmail"), ("TENTATIVE", "apple")]
        answers.append(("COUNTER", "thunderbird"))
        for dossier, (partstat, client) in zip(dossiers, answers, strict=True):
            address = dossier["candidate"]["email"]
            event = _calendar(invitations[address].message)  # what the candidate received
            assert event is not None
            answer = Answer(uid=str(event["UID"]), sequence=int(event["SEQUENCE"]), email=address)
            if partstat == "COUNTER":
                start = event["DTSTART"].dt
                answer.method, answer.partstat = "COUNTER", "TENTATIVE"
                answer.proposed = (start + DAY, event["DTEND"].dt + DAY)  # a day later
            else:
                answer.partstat = partstat
            if partstat == "ACCEPTED":  # someone else says "no" in their name first
                forged = Answer(
                    uid=answer.uid,
                    sequence=answer.sequence,
                    email=address,
                    sender="mallory@example.net",
                    partstat="DECLINED",
                )
                dovecot.append(email_of(forged, "gmail"))
            dovecot.append(email_of(answer, client))

        wanted = ["accepted", "declined", "invited", "invited"]
        deadline = time.monotonic() + 60
        while True:
            states = _participations(http, trial["id"])
            now = [states[d["dossier_id"]]["status"] for d in dossiers]
            if now == wanted and len(dovecot.messages(DONE)) >= 4:
                break
            assert time.monotonic() < deadline, (now, stack.log_tails())
            time.sleep(0.5)
        time.sleep(4)  # several more polls by both beats: nothing more happens

        assert [states[d["dossier_id"]]["status"] for d in dossiers] == wanted
        left = dovecot.messages("INBOX")
        assert len(left) == 1, "the forged answer stays in the mailbox"
        notices = http.get(f"/api/v1/notices?job_id={trial['job_id']}").json()["items"]
        assert sorted(n["action"] for n in notices) == [
            "calendar_counter",
            "calendar_reply_tentative",
        ]
        for dossier, (partstat, _client) in zip(dossiers, answers, strict=True):
            history = http.get(f"/api/v1/dossiers/{dossier['dossier_id']}/history").json()
            answered = [e for e in history["items"] if e["action"].startswith("invitation_")]
            if partstat in ("ACCEPTED", "DECLINED"):
                [entry] = answered
                assert entry["action"] == f"invitation_{partstat.lower()}"
                assert entry["after"]["via"] == "calendar"
            else:
                assert answered == []
        # The decline took the event out of their calendar: METHOD:CANCEL, same UID.
        declined = dossiers[1]["candidate"]["email"]
        cancels = mailbox.wait_for(
            1,
            where=lambda m: (
                _to(declined)(m)
                and (_calendar(m.message) or {}).get("UID")
                and _calendar(m.message).method == "CANCEL"
            ),  # type: ignore[union-attr]
            timeout=30,
        )
        assert len(cancels) == 1
    finally:
        stack.processes.pop("beat-2").terminate()
