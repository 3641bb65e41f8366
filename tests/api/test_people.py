"""People: admins manage them, keys act for them, and every decision names them."""

from datetime import UTC, datetime
from typing import Any

import icalendar
import pytest
from sqlalchemy import select

from services.notifier.delivery import deliver
from shared.db import session_scope
from shared.models import Message
from tests import libical
from tests.builders import examiner_id
from tests.mailbox import SmtpServer

SLOTS = {
    "slot_minutes": 30,
    "capacity": 2,
    "windows": [{"start": "2027-06-15T09:00:00+02:00", "end": "2027-06-15T10:00:00+02:00"}],
}


@pytest.fixture
def admin(api_key: Any) -> dict[str, str]:
    return api_key("admin")


@pytest.fixture
def person(client: Any, admin: dict[str, str]) -> Any:
    """Add a person through the API; returns their resource."""

    def make(name: str, email: str, roles: list[str]) -> dict[str, Any]:
        body = {"name": name, "email": email, "roles": roles}
        created = client.post("/api/v1/people", json=body, headers=admin)
        assert created.status_code == 201, created.text
        return dict(created.json())

    return make


def test_admins_manage_people(
    client: Any, admin: dict[str, str], hr: dict[str, str], person: Any
) -> None:
    alice = person("Alice Martin", "Alice.Martin@Example.org", ["hr", "examiner"])
    assert alice["email"] == "alice.martin@example.org"
    assert (alice["roles"], alice["active"], alice["calendar_feed"]) == (
        ["examiner", "hr"],
        True,
        False,
    )
    twin = {"name": "A", "email": "ALICE.MARTIN@example.org", "roles": ["viewer"]}
    duplicate = client.post("/api/v1/people", json=twin, headers=admin)
    assert duplicate.status_code == 409, "unique whatever the case"
    assert duplicate.json()["person_id"] == alice["id"]
    assert duplicate.headers["content-type"] == "application/problem+json"

    bob = person("Bob", "bob@example.org", ["viewer"])
    taken = client.patch(
        f"/api/v1/people/{bob['id']}", json={"email": "alice.martin@example.org"}, headers=admin
    )
    assert taken.status_code == 409
    changed = client.patch(
        f"/api/v1/people/{bob['id']}", json={"roles": ["hr"], "active": False}, headers=admin
    )
    assert (changed.json()["roles"], changed.json()["active"]) == (["hr"], False)
    assert client.get(f"/api/v1/people/{bob['id']}", headers=admin).json() == changed.json()
    listed = client.get("/api/v1/people", headers=admin).json()["items"]
    assert [p["name"] for p in listed] == ["Alice Martin", "Bob"]

    bad = client.post(
        "/api/v1/people",
        json={"name": "X", "email": "x@example.org", "roles": ["boss"]},
        headers=admin,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("body.roles")
    assert client.get("/api/v1/people", headers=hr).status_code == 403
    missing = client.get("/api/v1/people/00000000-0000-0000-0000-000000000000", headers=admin)
    assert missing.status_code == 404


def test_a_front_end_key_acts_for_a_person(
    client: Any, build: Any, api_key: Any, person: Any
) -> None:
    front = api_key("hr", name="hr-frontend", acts_for_people=True)
    alice = person("Alice Martin", "alice@example.org", ["hr"])
    as_alice = {**front, "On-Behalf-Of": "ALICE@example.org"}
    dossier = build.dossier()
    base = f"/api/v1/dossiers/{dossier['id']}"

    rejected = client.post(f"{base}/reject", json={"reason": "R", "notify": True}, headers=as_alice)
    assert rejected.status_code == 200, rejected.text
    note = client.post(f"{base}/notes", json={"text": "called"}, headers=as_alice).json()
    assert (note["person_id"], note["person_name"], note["service"]) == (
        alice["id"],
        "Alice Martin",
        "hr-frontend",
    )
    history = client.get(f"{base}/history", headers=front).json()["items"]
    step = next(e for e in history if e["action"] == "dossier_rejected")
    assert (step["person_id"], step["person_name"], step["service"], step["actor"]) == (
        alice["id"],
        "Alice Martin",
        "hr-frontend",
        "hr:alice@example.org",
    )
    first = next(e for e in history if e["action"] == "application_validated")
    assert (first["person_id"], first["service"]) == (None, "hr-tester"), "the builder's key alone"
    messages = client.get(f"/api/v1/messages?dossier_id={dossier['id']}", headers=front).json()
    told = next(m for m in messages["items"] if m["kind"] == "dossier_rejected")
    assert (told["person_name"], told["service"]) == ("Alice Martin", "hr-frontend")

    me = client.get("/api/v1/me", headers=as_alice).json()
    assert (me["kind"], me["person"]["id"], me["roles"], me["service"]) == (
        "person",
        alice["id"],
        ["hr"],
        "hr-frontend",
    )
    assert client.get("/api/v1/me", headers=front).json()["kind"] == "service"


def test_on_behalf_of_never_lends_more_than_the_key(
    client: Any, build: Any, api_key: Any, admin: dict[str, str], person: Any
) -> None:
    front = api_key("hr", name="hr-frontend", acts_for_people=True)
    person("Ada Admin", "ada@example.org", ["admin"])
    person("Vic Viewer", "vic@example.org", ["viewer"])
    gone = person("Gus Gone", "gus@example.org", ["hr"])
    client.patch(f"/api/v1/people/{gone['id']}", json={"active": False}, headers=admin)
    dossier = build.dossier()
    reject = f"/api/v1/dossiers/{dossier['id']}/reject"

    def answer(key: dict[str, str], email: str, path: str = reject) -> Any:
        method = client.post if path == reject else client.get
        body = {"json": {"reason": "R"}} if path == reject else {}
        return method(path, headers={**key, "On-Behalf-Of": email}, **body)

    denied = {
        "an admin through an HR key": answer(front, "ada@example.org", "/api/v1/people"),
        "a viewer": answer(front, "vic@example.org"),
        "an inactive person": answer(front, "gus@example.org"),
        "an unknown person": answer(front, "nobody@example.org"),
        "a key that does not act for people": answer(api_key("hr"), "vic@example.org"),
    }
    for case, response in denied.items():
        assert response.status_code == 403, case
        assert response.json()["type"] == "urn:recrue:problem:forbidden", case
    assert "not active" in denied["an inactive person"].json()["detail"]
    assert (
        "does not act for people" in denied["a key that does not act for people"].json()["detail"]
    )
    assert client.get(f"/api/v1/dossiers/{dossier['id']}", headers=front).json()["status"] == "open"


def test_an_examiner_key_is_its_person(client: Any, build: Any, api_key: Any) -> None:
    examiner = api_key("examiner", name="jury-me")
    job = build.job()
    trial = build.written_trial(job, examiner_ids=[examiner_id("jury-me")])
    build.written_trial(job, title="Other")
    me = client.get("/api/v1/me", headers=examiner).json()
    assert (me["kind"], me["person"]["name"], me["roles"], me["examines"]) == (
        "person",
        "jury-me",
        ["examiner"],
        [trial["id"]],
    )


def _slot_trial(client: Any, build: Any, hr: dict[str, str], examiners: list[str]) -> Any:
    """An oral trial of slots (SLOTS), examined by `examiners`."""
    body = {"kind": "oral", "title": "Entretien", "booking": SLOTS, "examiner_ids": examiners}
    return client.post(f"/api/v1/jobs/{build.job()['id']}/trials", json=body, headers=hr).json()


def test_examiners_get_the_calendar_invitation_of_their_trial(
    client: Any,
    build: Any,
    hr: dict[str, str],
    person: Any,
    smtp_server: SmtpServer,
    smtp_to: Any,
) -> None:
    smtp_to(smtp_server.port)
    mailbox = smtp_server.mailbox
    mailbox.clear()
    eve = person("Eve Jury", "eve@example.org", ["examiner"])
    tom = person("Tom Jury", "tom@example.org", ["examiner"])
    trial = _slot_trial(client, build, hr, [eve["id"]])
    path = f"/api/v1/trials/{trial['id']}/examiners"
    assert client.put(path, json={"examiner_ids": [eve["id"]]}, headers=hr).is_success
    assert client.put(path, json={"examiner_ids": [eve["id"], tom["id"]]}, headers=hr).is_success

    with session_scope() as session:
        queued = session.execute(
            select(Message.id, Message.to_address).where(Message.kind == "examiner_invitation")
        ).all()
    assert sorted(to for _, to in queued) == ["eve@example.org", "tom@example.org"], "once each"
    assert deliver([message_id for message_id, _ in queued]) == []
    received = mailbox.wait_for(2)
    [eves] = [r for r in received if r.rcpt_tos == ["eve@example.org"]]
    to_eve = eves.message
    assert str(to_eve["Subject"]).startswith("Jury : Entretien – ")
    text = to_eve.get_body(("plain",)).get_content()
    assert "Dear" not in text and "Eve Jury" in text
    assert "Les candidats réservent ces créneaux" in text
    assert "9:00" in text and "9:30" in text, "the slots, in the trial's time"
    calendar = icalendar.Calendar.from_ical(eves.calendar())
    [event] = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["ATTENDEE"]) == "mailto:eve@example.org"
    assert event["DTSTART"].dt.astimezone(UTC) == datetime(2027, 6, 15, 7, tzinfo=UTC)
    assert event["DTEND"].dt.astimezone(UTC) == datetime(2027, 6, 15, 8, tzinfo=UTC)

    # No longer her trial: the cancellation of that very event.
    mailbox.clear()
    assert client.put(path, json={"examiner_ids": [tom["id"]]}, headers=hr).is_success
    with session_scope() as session:
        ended = session.scalars(
            select(Message.id).where(Message.kind == "examiner_unassigned")
        ).all()
    assert deliver(list(ended)) == []
    [arrived] = mailbox.wait_for(1)
    cancelled = arrived.message
    assert cancelled["To"].addresses[0].addr_spec == "eve@example.org"
    assert str(cancelled["Subject"]).startswith("Annul")
    withdrawn = icalendar.Calendar.from_ical(arrived.calendar())
    [gone] = withdrawn.walk("VEVENT")
    assert str(withdrawn["METHOD"]) == "CANCEL"
    assert (str(gone["UID"]), int(gone["SEQUENCE"])) == (str(event["UID"]), 1)


@pytest.mark.libical
def test_examiners_calendars_follow_the_changes_of_their_trial(
    client: Any,
    build: Any,
    hr: dict[str, str],
    person: Any,
    smtp_server: SmtpServer,
    smtp_to: Any,
) -> None:
    smtp_to(smtp_server.port)
    mailbox = smtp_server.mailbox
    eve = person("Eve Jury", "eve@example.org", ["examiner"])
    tom = person("Tom Jury", "tom@example.org", ["examiner"])
    trial = _slot_trial(client, build, hr, [eve["id"]])
    path = f"/api/v1/trials/{trial['id']}"
    assert client.put(
        f"{path}/examiners", json={"examiner_ids": [eve["id"], tom["id"]]}, headers=hr
    ).is_success
    sent: set[Any] = set()

    def received() -> dict[str, icalendar.Calendar]:
        """Deliver what was queued since last asked; each examiner's calendar, as libical and
        icalendar read it."""
        with session_scope() as session:
            queued = set(session.scalars(select(Message.id)).all()) - sent
        sent.update(queued)
        mailbox.clear()
        assert deliver(list(queued)) == []
        calendars = {}
        for arrived in mailbox.wait_for(len(queued)) if queued else []:
            ics = arrived.calendar()
            assert libical.errors(ics.decode()) == []
            [to] = arrived.rcpt_tos
            calendars[to] = icalendar.Calendar.from_ical(ics)
        return calendars

    def seen(calendar: icalendar.Calendar) -> tuple[str, str, int]:
        [event] = calendar.walk("VEVENT")
        return str(calendar["METHOD"]), str(event["UID"]), int(event["SEQUENCE"])

    invited = received()
    uid = {to: seen(calendar)[1] for to, calendar in invited.items()}
    assert [seen(c) for c in invited.values()] == [("REQUEST", u, 0) for u in uid.values()]

    # A slot trial's duration is not its examiners' event (the span of its slots): no email.
    assert client.patch(path, json={"duration_minutes": 45}, headers=hr).is_success
    assert received() == {}

    # Postponed by a day: each examiner's event moves, same UID, higher SEQUENCE.
    later = {"starts_at": "2027-06-16T09:00:00+02:00", "reason": "Salle indisponible"}
    assert client.post(f"{path}/postpone", json=later, headers=hr).is_success
    moved = received()
    assert {to: seen(c) for to, c in moved.items()} == {to: ("REQUEST", uid[to], 1) for to in uid}
    [event] = moved["eve@example.org"].walk("VEVENT")
    assert event["DTSTART"].dt.astimezone(UTC) == datetime(2027, 6, 16, 7, tzinfo=UTC)
    assert event["DTEND"].dt.astimezone(UTC) == datetime(2027, 6, 16, 8, tzinfo=UTC)

    # Another place: updated again.
    assert client.patch(path, json={"location": "Salle 2"}, headers=hr).is_success
    relocated = received()
    assert {to: seen(c) for to, c in relocated.items()} == {
        to: ("REQUEST", uid[to], 2) for to in uid
    }
    assert str(relocated["tom@example.org"].walk("VEVENT")[0]["LOCATION"]) == "Salle 2"

    # Tom unassigned after these updates: his CANCEL outranks them.
    assert client.put(
        f"{path}/examiners", json={"examiner_ids": [eve["id"]]}, headers=hr
    ).is_success
    assert {to: seen(c) for to, c in received().items()} == {
        "tom@example.org": ("CANCEL", uid["tom@example.org"], 3)
    }

    # The trial cancelled: Eve's event withdrawn, at a SEQUENCE no lower than her last.
    assert client.post(f"{path}/cancel", json={"reason": "Poste supprimé"}, headers=hr).is_success
    assert {to: seen(c) for to, c in received().items()} == {
        "eve@example.org": ("CANCEL", uid["eve@example.org"], 3)
    }
