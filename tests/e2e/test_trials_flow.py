"""Trials end to end through HTTP and the real workers: answers, slots, postponements,
cancellations, reminders and expiry, with the calendars the candidates receive."""

import re
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import icalendar
import pytest
from sqlalchemy import update

from shared.db import session_scope
from shared.models import Participation
from tests.e2e.slice import post
from tests.mailbox import Mailbox, Received
from tests.stack import Stack

pytestmark = pytest.mark.e2e
# A candidate link (the footer's /c/privacy/ link, the same in every email, is not one).
LINK = re.compile(r"https?://\S+/c/(?!privacy/)[A-Za-z0-9_.\-]+(?:\?answer=\w+)?")
BRUSSELS_10H = "2027-06-15T10:00:00+02:00"


def _hr(stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=stack.base_url, headers=stack.create_api_key(), timeout=30)


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _links(message: EmailMessage) -> list[str]:
    return LINK.findall(_text(message))


def _calendar(message: EmailMessage) -> icalendar.Event | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
            [event] = calendar.walk("VEVENT")
            event.method = str(calendar["METHOD"])  # type: ignore[attr-defined]
            return event
    return None


def _to(address: str) -> Any:
    return lambda m: m.rcpt_tos == [address]


def _setup(
    http: httpx.Client, mailbox: Mailbox, count: int, **trial: Any
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Received]]:
    """A job, `count` dossiers invited to a trial, and each candidate's invitation email."""
    run = uuid.uuid4().hex[:8]
    job = post(http, "/jobs", {"title": "Technicien", "reference": f"T-{run}", "year": 2026})
    dossiers = []
    for n in range(count):
        application = post(
            http,
            "/applications",
            {
                "kind": "specific",
                "job_id": job["id"],
                "candidate": {
                    "first_name": "Cand",
                    "last_name": str(n),
                    "email": f"c{n}-{run}@example.org",
                    "language": "fr",
                },
            },
        )
        dossiers.append(post(http, f"/applications/{application['id']}/validate"))
    body = {"kind": "oral", "title": "Entretien", "location": "Salle 3", **trial}
    created = post(http, f"/jobs/{job['id']}/trials", body)
    post(http, f"/trials/{created['id']}/invitations", {"all_eligible": True})
    invitations = {}
    for dossier in dossiers:
        address = dossier["candidate"]["email"]
        found = mailbox.wait_for(
            1, where=lambda m, a=address: _to(a)(m) and not _is_validation(m), timeout=60
        )
        invitations[address] = found[0]
    return created, dossiers, invitations


def _is_validation(received: Received) -> bool:
    return "valid" in str(received.message["Subject"]).lower()


def _participations(http: httpx.Client, trial_id: str) -> dict[str, dict[str, Any]]:
    items = http.get(f"/api/v1/trials/{trial_id}/participations").json()["items"]
    return {p["dossier_id"]: p for p in items}


def _wait_status(http: httpx.Client, trial_id: str, dossier_id: str, status: str) -> None:
    deadline = time.monotonic() + 30
    while _participations(http, trial_id)[dossier_id]["status"] != status:
        assert time.monotonic() < deadline, _participations(http, trial_id)[dossier_id]
        time.sleep(0.3)


def test_invite_accept_and_decline(stack: Stack, mailbox: Mailbox) -> None:
    http = _hr(stack)
    trial, dossiers, invitations = _setup(
        http,
        mailbox,
        2,
        starts_at=BRUSSELS_10H,
        duration_minutes=30,
        response_deadline="2027-06-10T12:00:00+02:00",
    )
    first, second = (invitations[d["candidate"]["email"]] for d in dossiers)
    event = _calendar(first.message)
    assert event is not None and int(event["SEQUENCE"]) == 0
    accept, decline = _links(first.message)
    assert accept.endswith("?answer=accept") and decline.endswith("?answer=decline")

    page = httpx.get(accept)
    assert page.status_code == 200 and "Entretien" in page.text
    assert _participations(http, trial["id"])[dossiers[0]["dossier_id"]]["status"] == "invited"
    done = httpx.post(accept, data={"action": "answer_invitation", "answer": "accept"})
    assert done.status_code == 200 and "confirmé" in done.text
    again = httpx.post(accept, data={"action": "answer_invitation", "answer": "decline"})
    assert "confirmé" in again.text, "the first answer stands"

    decline_link = _links(second.message)[1]
    httpx.post(decline_link, data={"action": "answer_invitation", "answer": "decline"})

    states = _participations(http, trial["id"])
    assert states[dossiers[0]["dossier_id"]]["status"] == "accepted"
    assert states[dossiers[0]["dossier_id"]]["answered_at"] is not None
    assert states[dossiers[1]["dossier_id"]]["status"] == "declined"
    history = http.get(f"/api/v1/dossiers/{dossiers[1]['dossier_id']}/history").json()["items"]
    assert "invitation_declined" in [e["action"] for e in history]


def test_invite_then_expire_at_the_deadline(stack: Stack, mailbox: Mailbox) -> None:
    http = _hr(stack)
    soon = (datetime.now(UTC) + timedelta(seconds=4)).isoformat()
    trial, dossiers, invitations = _setup(
        http,
        mailbox,
        1,
        starts_at=BRUSSELS_10H,
        duration_minutes=30,
        response_deadline=soon,
        response_reminder_hours=0,
    )
    dossier_id = dossiers[0]["dossier_id"]
    _wait_status(http, trial["id"], dossier_id, "expired")
    expired = http.get(f"/api/v1/trials/{trial['id']}/participations?status=expired").json()
    assert [p["dossier_id"] for p in expired["items"]] == [dossier_id]
    history = http.get(f"/api/v1/dossiers/{dossier_id}/history").json()["items"]
    assert "invitation_expired" in [e["action"] for e in history]
    address = dossiers[0]["candidate"]["email"]
    mailbox.wait_for(2, where=_to(address), timeout=30)  # the validation and the invitation
    page = httpx.get(_links(invitations[address].message)[0])
    assert page.status_code == 410, "the link expired with the deadline"
    # The expiry email takes the event out of the calendar: same UID, the next SEQUENCE.
    [expiry] = mailbox.wait_for(
        1,
        where=lambda m: (
            _to(address)(m)
            and _calendar(m.message) is not None
            and _calendar(m.message).method == "CANCEL"
        ),  # type: ignore[union-attr]
        timeout=30,
    )
    event = _calendar(expiry.message)
    assert event is not None
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1
    assert str(event["UID"]) == str(_calendar(invitations[address].message)["UID"])  # type: ignore[index]


def test_global_postponement_updates_everyone(stack: Stack, mailbox: Mailbox) -> None:
    http = _hr(stack)
    trial, dossiers, invitations = _setup(
        http, mailbox, 3, starts_at=BRUSSELS_10H, duration_minutes=45
    )
    uids = {a: str(_calendar(r.message)["UID"]) for a, r in invitations.items()}  # type: ignore[index]
    post(
        http,
        f"/trials/{trial['id']}/postpone",
        {"starts_at": "2027-06-16T14:00:00+02:00", "reason": "salle indisponible"},
    )

    for address, uid in uids.items():
        [update] = mailbox.wait_for(
            1,
            where=lambda m, a=address: (
                _to(a)(m)
                and "report" in str(m.message["Subject"]).lower()
                or (
                    _to(a)(m)
                    and _calendar(m.message) is not None
                    and int(_calendar(m.message)["SEQUENCE"]) == 1
                )
            ),
            timeout=60,
        )
        event = _calendar(update.message)
        assert event is not None
        assert str(event["UID"]) == uid
        assert int(event["SEQUENCE"]) == 1
        assert event.decoded("DTSTART").astimezone(UTC) == datetime(2027, 6, 16, 12, 0, tzinfo=UTC)
        assert event.method == "REQUEST"  # type: ignore[attr-defined]
    states = _participations(http, trial["id"])
    assert all(p["sequence"] == 1 for p in states.values())


def test_one_candidate_postponed_only_they_hear(stack: Stack, mailbox: Mailbox) -> None:
    http = _hr(stack)
    trial, dossiers, invitations = _setup(
        http, mailbox, 2, starts_at=BRUSSELS_10H, duration_minutes=45
    )
    moved, kept = dossiers
    participation = _participations(http, trial["id"])[moved["dossier_id"]]
    post(
        http,
        f"/participations/{participation['id']}/postpone",
        {"starts_at": "2027-06-17T09:00:00+02:00"},
    )
    address = moved["candidate"]["email"]
    [update] = mailbox.wait_for(
        1,
        where=lambda m: (
            _to(address)(m)
            and _calendar(m.message) is not None
            and int(_calendar(m.message)["SEQUENCE"]) == 1
        ),
    )
    assert update.message is not None
    time.sleep(2)
    other = [m for m in mailbox.messages if _to(kept["candidate"]["email"])(m)]
    assert len(other) == 2, "the other candidate got only the validation and the invitation"
    states = _participations(http, trial["id"])
    assert states[kept["dossier_id"]]["sequence"] == 0
    assert states[moved["dossier_id"]]["sequence"] == 1


def test_cancellation_sends_method_cancel(stack: Stack, mailbox: Mailbox) -> None:
    http = _hr(stack)
    trial, dossiers, invitations = _setup(
        http, mailbox, 2, starts_at=BRUSSELS_10H, duration_minutes=45
    )
    post(http, f"/trials/{trial['id']}/cancel", {"reason": "poste supprimé"})
    for dossier in dossiers:
        address = dossier["candidate"]["email"]
        [cancel] = mailbox.wait_for(
            1,
            where=lambda m, a=address: (
                _to(a)(m)
                and _calendar(m.message) is not None
                and _calendar(m.message).method == "CANCEL"
            ),  # type: ignore[union-attr]
        )
        event = _calendar(cancel.message)
        assert event is not None
        assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1
        assert str(event["UID"]) == str(_calendar(invitations[address].message)["UID"])  # type: ignore[index]
    again = http.post(f"/api/v1/trials/{trial['id']}/cancel", json={})
    assert again.status_code == 409 and again.json()["state"] == "cancelled"


def test_slot_booking_and_change(stack: Stack, mailbox: Mailbox) -> None:
    http = _hr(stack)
    booking = {
        "slot_minutes": 30,
        "capacity": 1,
        "windows": [{"start": "2027-06-15T09:00:00+02:00", "end": "2027-06-15T10:30:00+02:00"}],
    }
    trial, dossiers, invitations = _setup(http, mailbox, 1, booking=booking)
    slots = http.get(f"/api/v1/trials/{trial['id']}/slots").json()["items"]
    assert [s["starts_at"] for s in slots] == [
        "2027-06-15T07:00:00Z",
        "2027-06-15T07:30:00Z",
        "2027-06-15T08:00:00Z",
    ]
    address = dossiers[0]["candidate"]["email"]
    invitation = invitations[address].message
    assert _calendar(invitation) is None, "no time yet: a booking link"
    [link] = _links(invitation)
    assert httpx.get(link).status_code == 200

    booked = httpx.post(link, data={"action": "book_slot", "slot_id": slots[1]["id"]})
    assert booked.status_code == 200
    [confirmation] = mailbox.wait_for(
        1, where=lambda m: _to(address)(m) and _calendar(m.message) is not None
    )
    event = _calendar(confirmation.message)
    assert event is not None and int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART").astimezone(UTC) == datetime(2027, 6, 15, 7, 30, tzinfo=UTC)

    changed = httpx.post(link, data={"action": "book_slot", "slot_id": slots[2]["id"]})
    assert changed.status_code == 200
    [update] = mailbox.wait_for(
        1,
        where=lambda m: (
            _to(address)(m)
            and _calendar(m.message) is not None
            and int(_calendar(m.message)["SEQUENCE"]) == 2
        ),
    )
    event = _calendar(update.message)
    assert event is not None and str(event["UID"]) == str(_calendar(confirmation.message)["UID"])  # type: ignore[index]
    counts = {
        s["id"]: s["booked"]
        for s in http.get(f"/api/v1/trials/{trial['id']}/slots").json()["items"]
    }
    assert counts == {slots[0]["id"]: 0, slots[1]["id"]: 0, slots[2]["id"]: 1}


def test_fifty_concurrent_bookings_on_five_single_seat_slots(
    stack: Stack, mailbox: Mailbox
) -> None:
    http = _hr(stack)
    booking = {
        "slot_minutes": 20,
        "capacity": 1,
        "windows": [{"start": "2027-06-15T09:00:00+02:00", "end": "2027-06-15T10:40:00+02:00"}],
    }
    trial, dossiers, invitations = _setup(http, mailbox, 50, booking=booking)
    slots = http.get(f"/api/v1/trials/{trial['id']}/slots").json()["items"]
    assert len(slots) == 5
    links = [_links(invitations[d["candidate"]["email"]].message)[0] for d in dossiers]
    answers: list[int] = []
    barrier = threading.Barrier(len(links))

    def book(n: int, link: str) -> None:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            response = client.post(
                link, data={"action": "book_slot", "slot_id": slots[n % 5]["id"]}
            )
            answers.append(response.status_code)

    threads = [threading.Thread(target=book, args=(n, link)) for n, link in enumerate(links)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Counter(answers) == {200: 5, 409: 45}
    after = http.get(f"/api/v1/trials/{trial['id']}/slots").json()["items"]
    assert [s["booked"] for s in after] == [1, 1, 1, 1, 1]
    states = Counter(p["status"] for p in _participations(http, trial["id"]).values())
    assert states == {"accepted": 5, "invited": 45}


def test_reminders_go_out_once_with_two_beats(
    stack: Stack, mailbox: Mailbox, tmp_path: Any
) -> None:
    stack.start("beat-2", "beat", "--schedule", str(tmp_path / "second-beat"))
    try:
        http = _hr(stack)
        in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        tomorrow = (datetime.now(UTC) + timedelta(hours=20)).isoformat()
        trial, dossiers, invitations = _setup(
            http,
            mailbox,
            2,
            starts_at=tomorrow,
            duration_minutes=30,
            response_deadline=in_an_hour,
            response_reminder_hours=48,
            trial_reminder_hours=24,
        )
        attending = dossiers[0]["candidate"]["email"]
        accept = _links(invitations[attending].message)[0]
        httpx.post(accept, data={"action": "answer_invitation", "answer": "accept"})
        # No reminder an hour after the invitation itself: it went out days ago.
        with session_scope() as session:
            session.execute(
                update(Participation)
                .where(Participation.trial_id == uuid.UUID(trial["id"]))
                .values(created_at=datetime.now(UTC) - timedelta(days=3))
            )
        time.sleep(6)  # a dozen sweeps by two beats
        invited, attended = dossiers[1], dossiers[0]
        kinds = {
            d["dossier_id"]: Counter(
                m["kind"]
                for m in http.get(f"/api/v1/messages?dossier_id={d['dossier_id']}").json()["items"]
            )
            for d in dossiers
        }
        assert kinds[invited["dossier_id"]]["response_reminder"] == 1
        assert kinds[invited["dossier_id"]]["trial_reminder"] == 0
        assert kinds[attended["dossier_id"]]["trial_reminder"] == 1
        # A sweep may have reminded them to answer just before they accepted: once at most.
        assert kinds[attended["dossier_id"]]["response_reminder"] <= 1
        for dossier in dossiers:
            address = dossier["candidate"]["email"]
            expected = sum(kinds[dossier["dossier_id"]].values())
            assert len([m for m in mailbox.messages if _to(address)(m)]) == expected
    finally:
        stack.processes.pop("beat-2").terminate()
