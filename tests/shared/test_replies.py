"""Answers through the calendar, read by the one parser (shared/replies.py) in-process: each
client's shape, each answer, and what is ignored. Through Dovecot and `recrue ingest-mail`:
tests/scheduler/test_replies_imap.py and tests/test_ingest_mail.py."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from shared import replies
from shared.db import session_scope
from shared.models import CalendarReplyCount, HistoryEntry, Participation, utcnow
from shared.replies import Outcome
from tests.itip import PRODIDS, Answer, auto_reply, email_of, malformed
from tests.replies_flow import accepted_slot, invited, participation_of


def _no_publish(_: Any) -> None:
    """The events stay in the outbox."""


def _ingest(raw: bytes) -> Outcome:
    return replies.ingest(raw, publish=_no_publish)


def _history(dossier_id: str) -> list[HistoryEntry]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(HistoryEntry)
                .where(HistoryEntry.dossier_id == uuid.UUID(dossier_id))
                .order_by(HistoryEntry.id)
            )
        )


def _notices(client: Any, hr: dict[str, str], job_id: str) -> list[dict[str, Any]]:
    items = client.get(f"/api/v1/notices?job_id={job_id}", headers=hr).json()["items"]
    return list(items)


@pytest.mark.parametrize("client_name", sorted(PRODIDS))
@pytest.mark.parametrize("partstat", ["ACCEPTED", "DECLINED"])
def test_each_client_answers_like_the_link(
    client: Any, build: Any, hr: dict[str, str], client_name: str, partstat: str
) -> None:
    job, dossier, candidate, p = invited(build, client, hr)
    # The address in a different case: it is the same mailbox.
    answer = Answer(
        uid=f"{p['id']}@recrue",
        sequence=p["sequence"],
        email=candidate["email"].upper(),
        partstat=partstat,
    )

    outcome = _ingest(email_of(answer, client_name))
    again = _ingest(email_of(answer, client_name))

    wanted = "accepted" if partstat == "ACCEPTED" else "declined"
    assert outcome == Outcome(wanted)
    assert again == Outcome.UNCHANGED, "once"
    assert participation_of(client, hr, p)["status"] == wanted
    entries = [e for e in _history(dossier["id"]) if e.action == f"invitation_{wanted}"]
    assert len(entries) == 1
    after = entries[0].after or {}
    assert after["via"] == "calendar"
    assert after["client"] == PRODIDS[client_name]
    assert entries[0].actor == f"candidate:{candidate['id']}"


def test_a_decline_releases_the_booked_slot(client: Any, build: Any, hr: dict[str, str]) -> None:
    trial, dossier, candidate, p = accepted_slot(build, client, hr)
    answer = Answer(
        uid=f"{p['id']}@recrue",
        sequence=p["sequence"],
        email=candidate["email"],
        partstat="DECLINED",
    )

    assert _ingest(email_of(answer, "outlook")) == Outcome.DECLINED

    assert participation_of(client, hr, p)["status"] == "declined"
    slots = client.get(f"/api/v1/trials/{trial['id']}/slots", headers=hr).json()["items"]
    assert [s["booked"] for s in slots] == [0, 0]


def test_tentative_stays_invited_with_one_notice(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job, dossier, candidate, p = invited(build, client, hr)
    answer = Answer(
        uid=f"{p['id']}@recrue",
        sequence=p["sequence"],
        email=candidate["email"],
        partstat="TENTATIVE",
        comment="Je dois vérifier un congé.",
    )

    assert _ingest(email_of(answer, "gmail")) == Outcome.TENTATIVE
    assert _ingest(email_of(answer, "gmail")) == Outcome.TENTATIVE  # read twice: one notice

    assert participation_of(client, hr, p)["status"] == "invited"
    notices = _notices(client, hr, job["id"])
    assert [n["action"] for n in notices] == ["calendar_reply_tentative"]
    assert notices[0]["after"]["comment"] == "Je dois vérifier un congé."
    assert notices[0]["after"]["client"] == PRODIDS["gmail"]


def test_counter_is_a_notice_with_the_proposed_time(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job, dossier, candidate, p = invited(build, client, hr)
    start = utcnow().replace(microsecond=0) + timedelta(days=40)
    answer = Answer(
        uid=f"{p['id']}@recrue",
        sequence=p["sequence"],
        email=candidate["email"],
        method="COUNTER",
        partstat="TENTATIVE",
        proposed=(start, start + timedelta(hours=2)),
    )

    assert _ingest(email_of(answer, "outlook")) == Outcome.COUNTER

    before = participation_of(client, hr, p)
    assert before["status"] == "invited" and before["starts_at"] == p["starts_at"]
    notices = _notices(client, hr, job["id"])
    assert [n["action"] for n in notices] == ["calendar_counter"]
    assert notices[0]["after"]["proposed_starts_at"] == start.isoformat()


def test_an_answer_to_an_older_sequence_is_a_notice_only(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job, dossier, candidate, p = invited(build, client, hr)
    changed = client.patch(
        f"/api/v1/trials/{p['trial_id']}", json={"location": "Salle 2"}, headers=hr
    )
    assert changed.status_code == 200, changed.text
    answer = Answer(uid=f"{p['id']}@recrue", sequence=p["sequence"], email=candidate["email"])

    assert _ingest(email_of(answer, "thunderbird")) == Outcome.OUTDATED

    assert participation_of(client, hr, p)["status"] == "invited"
    notices = _notices(client, hr, job["id"])
    assert [n["action"] for n in notices] == ["calendar_reply_outdated"]
    assert notices[0]["after"]["current_sequence"] == p["sequence"] + 1


def test_the_link_rules_deadline_and_once(client: Any, build: Any, hr: dict[str, str]) -> None:
    job, dossier, candidate, p = invited(build, client, hr)
    accept = Answer(uid=f"{p['id']}@recrue", sequence=p["sequence"], email=candidate["email"])
    decline = Answer(
        uid=accept.uid, sequence=accept.sequence, email=candidate["email"], partstat="DECLINED"
    )
    assert _ingest(email_of(accept, "apple")) == Outcome.ACCEPTED
    # Answered once: a later decline in the calendar is refused, as the link would, and HR
    # hears that the candidate says they will not come.
    assert _ingest(email_of(decline, "apple")) == Outcome.REFUSED
    assert participation_of(client, hr, p)["status"] == "accepted"

    job2, dossier2, candidate2, p2 = invited(build, client, hr)
    with session_scope() as session:
        session.execute(
            update(Participation)
            .where(Participation.id == uuid.UUID(p2["id"]))
            .values(response_deadline=utcnow() - timedelta(minutes=1))
        )
    late = Answer(uid=f"{p2['id']}@recrue", sequence=p2["sequence"], email=candidate2["email"])
    assert _ingest(email_of(late, "gmail")) == Outcome.REFUSED
    assert participation_of(client, hr, p2)["status"] == "invited"
    notices = _notices(client, hr, job2["id"])
    assert [(n["action"], n["after"]["reason"]) for n in notices] == [
        ("calendar_reply_refused", "deadline_passed")
    ]


def test_what_is_ignored(client: Any, build: Any, hr: dict[str, str]) -> None:
    job, dossier, candidate, p = invited(build, client, hr)
    uid = f"{p['id']}@recrue"

    def counted(outcome: str) -> int:
        with session_scope() as session:
            row = session.get(CalendarReplyCount, outcome)
            return row.count if row else 0

    forged_before = counted("wrong_sender")
    forged = Answer(
        uid=uid, sequence=p["sequence"], email=candidate["email"], sender="mallory@example.net"
    )
    assert _ingest(email_of(forged, "gmail")) == Outcome.WRONG_SENDER
    assert counted("wrong_sender") == forged_before + 1
    other = Answer(uid=uid, sequence=p["sequence"], email="someone@example.net")
    assert _ingest(email_of(other, "thunderbird")) == Outcome.WRONG_ATTENDEE
    unknown = Answer(uid=f"{uuid.uuid4()}@recrue", sequence=0, email=candidate["email"])
    assert _ingest(email_of(unknown, "outlook")) == Outcome.UNKNOWN_UID
    theirs = Answer(
        uid="040000008200E00074C5B7101A82E008@google.com", sequence=0, email=candidate["email"]
    )
    assert _ingest(email_of(theirs, "outlook")) == Outcome.UNKNOWN_UID
    request = Answer(uid=uid, sequence=p["sequence"], email=candidate["email"], method="REQUEST")
    assert _ingest(email_of(request, "apple")) == Outcome.NOT_A_REPLY
    assert _ingest(auto_reply()) == Outcome.NOT_CALENDAR
    assert _ingest(malformed(candidate["email"])) == Outcome.MALFORMED
    with pytest.raises(replies.Unreadable):
        _ingest(b"")

    assert participation_of(client, hr, p)["status"] == "invited"
    assert _notices(client, hr, job["id"]) == []


def test_read_unfolds_and_decodes_every_shape() -> None:
    for client_name in PRODIDS:
        answer = Answer(
            uid="0b8c7b1e-5d0f-4a39-9e43-3b7c9d1d8a11@recrue",
            sequence=3,
            email="Elise.Dupont@Example.org",
            partstat="TENTATIVE",
        )
        found = replies.read(email_of(answer, client_name))
        assert isinstance(found, replies.Reply), client_name
        assert (found.uid, found.sequence, found.partstat) == (answer.uid, 3, "TENTATIVE")
        assert found.attendee == found.sender == "elise.dupont@example.org"
        assert found.client == PRODIDS[client_name]


def test_the_api_exports_what_every_reader_counted(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    """The answers are read by the scheduler's poll or `recrue ingest-mail`, which nothing
    scrapes: the counts are in the database, and the API's /metrics reads them at scrape time."""
    job, dossier, candidate, p = invited(build, client, hr)
    before = client.get("/metrics").text
    assert 'recrue_calendar_replies_total{outcome="accepted"} 0.0' in before
    assert 'recrue_calendar_replies_total{outcome="wrong_sender"} 0.0' in before

    answer = Answer(uid=f"{p['id']}@recrue", sequence=p["sequence"], email=candidate["email"])
    assert _ingest(email_of(answer, "outlook")) == Outcome.ACCEPTED
    assert _ingest(email_of(answer, "outlook")) == Outcome.UNCHANGED  # read again
    assert _ingest(auto_reply()) == Outcome.NOT_CALENDAR
    assert _ingest(auto_reply()) == Outcome.NOT_CALENDAR

    exported = client.get("/metrics").text
    assert 'recrue_calendar_replies_total{outcome="accepted"} 1.0' in exported
    assert 'recrue_calendar_replies_total{outcome="unchanged"} 1.0' in exported
    assert 'recrue_calendar_replies_total{outcome="not_calendar"} 2.0' in exported
    assert 'recrue_calendar_replies_total{outcome="wrong_sender"} 0.0' in exported
    assert exported.count("# TYPE recrue_calendar_replies_total counter") == 1
