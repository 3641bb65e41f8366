"""Beat's poll of the HR mailbox through a real IMAP server: our own Dovecot (tests/dovecot.py),
the answers delivered by IMAP APPEND as real clients shape them, the poll task's function
called as beat would (twice, and by two pollers at once)."""

import email
from collections.abc import Iterator
from typing import Any

import pytest

from services.scheduler.replies import HANDLED, IGNORED, poll, utf7_folder
from shared.settings import Settings
from tests.beats import as_two_beats
from tests.dovecot import PASSWORD, USERNAME, Dovecot, running_dovecot
from tests.itip import Answer, auto_reply, email_of
from tests.replies_flow import invited, participation_of

pytestmark = pytest.mark.dovecot
DONE = "Recrue/Traités"  # a folder to be created, with a non-ASCII name


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with running_dovecot() as server:
        yield server


def _settings(server: Dovecot, **changes: Any) -> Settings:
    return Settings(
        replies_imap_host="127.0.0.1",
        replies_imap_port=server.port,
        replies_imap_username=USERNAME,
        replies_imap_password=PASSWORD,
        replies_imap_tls="none",
        replies_imap_done_folder=DONE,
        replies_imap_timeout=10,
        **changes,
    )


def _no_publish(_: Any) -> None:
    """The events stay in the outbox."""


def _empty(server: Dovecot) -> None:
    connection = server.connect()
    try:
        for folder in ("INBOX", DONE):
            if connection.select(f'"{utf7_folder(folder)}"')[0] == "OK":
                connection.uid("STORE", "1:*", "+FLAGS", "(\\Deleted)")
                connection.expunge()
    finally:
        connection.logout()


def test_answers_are_applied_once_and_moved(
    dovecot: Dovecot, client: Any, build: Any, hr: dict[str, str]
) -> None:
    _empty(dovecot)
    job, dossier, candidate, p = invited(build, client, hr)
    uid = f"{p['id']}@recrue"
    accept = Answer(uid=uid, sequence=p["sequence"], email=candidate["email"])
    forged = Answer(
        uid=uid,
        sequence=p["sequence"],
        email=candidate["email"],
        sender="mallory@example.net",
        partstat="DECLINED",
    )
    dovecot.append(email_of(forged, "gmail"))
    dovecot.append(email_of(accept, "outlook"))
    dovecot.append(auto_reply())
    hr_mail = b"From: boss@commune.example\r\nSubject: Budget\r\n\r\nSee attached.\r\n"
    dovecot.append(hr_mail)

    first = poll(publish=_no_publish, settings=_settings(dovecot))
    second = poll(publish=_no_publish, settings=_settings(dovecot))

    assert (first.handled, first.ignored) == (1, 3)
    assert (second.handled, second.ignored) == (0, 0), "what was read is not read again"
    assert participation_of(client, hr, p)["status"] == "accepted"
    done = dovecot.messages(DONE)
    assert len(done) == 1 and HANDLED in done[0][0] and "\\Seen" in done[0][0]
    left = dovecot.messages("INBOX")
    assert len(left) == 3, "the forged answer, the auto-reply and HR's own mail stay"
    assert all(IGNORED in flags and "\\Seen" not in flags for flags, _ in left), "still unread"
    history = client.get(f"/api/v1/dossiers/{dossier['id']}/history", headers=hr).json()
    accepted = [e for e in history["items"] if e["action"] == "invitation_accepted"]
    assert len(accepted) == 1 and accepted[0]["after"]["via"] == "calendar"


def test_two_pollers_at_once_apply_each_answer_once(
    dovecot: Dovecot, client: Any, build: Any, hr: dict[str, str]
) -> None:
    _empty(dovecot)
    job = None
    expected = []
    for partstat, client_name in [("TENTATIVE", "apple"), ("DECLINED", "thunderbird")] * 3:
        job, dossier, candidate, p = invited(build, client, hr)
        answer = Answer(
            uid=f"{p['id']}@recrue",
            sequence=p["sequence"],
            email=candidate["email"],
            partstat=partstat,
        )
        dovecot.append(email_of(answer, client_name))
        expected.append((p, "invited" if partstat == "TENTATIVE" else "declined", job))

    as_two_beats(lambda: poll(publish=_no_publish, settings=_settings(dovecot)))

    for p, status, job in expected:
        assert participation_of(client, hr, p)["status"] == status
        notices = client.get(f"/api/v1/notices?job_id={job['id']}", headers=hr).json()["items"]
        wanted = ["calendar_reply_tentative"] if status == "invited" else []
        assert [n["action"] for n in notices] == wanted, "one notice, though read by two"
    assert dovecot.messages("INBOX") == []
    # Both may have moved one email at the same instant: the done folder can hold a second
    # copy (IMAP has no atomic claim); what matters is that each answer was applied once.
    done = {_message_id(raw) for _, raw in dovecot.messages(DONE)}
    assert len(done) == 6


def _message_id(raw: bytes) -> str:
    return str(email.message_from_bytes(raw)["Message-ID"])


def test_no_host_no_poll() -> None:
    assert poll(publish=_no_publish, settings=Settings(replies_imap_host="")).handled == 0
