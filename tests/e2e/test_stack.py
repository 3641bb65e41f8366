"""End to end: HTTP decisions become emails and calendar invitations, through real processes."""

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import icalendar
import pytest

from tests.mailbox import Mailbox, Received, free_port
from tests.stack import Stack, wait_until_healthy

pytestmark = pytest.mark.e2e


def _post(http: httpx.Client, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = http.post(f"/api/v1{path}", json=body)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def _calendar(received: Received) -> tuple[icalendar.Calendar, bytes]:
    parts = {part.get_content_type(): part for part in received.message.walk()}
    raw = parts["text/calendar"].get_payload(decode=True)
    return icalendar.Calendar.from_ical(raw), raw


def test_validation_and_invitation_reach_the_candidate(stack: Stack, mailbox: Mailbox) -> None:
    http = httpx.Client(base_url=stack.base_url, headers=stack.create_api_key("hr"), timeout=10)
    job = _post(http, "/jobs", {"title": "Agent technique", "reference": "E2E-1", "year": 2026})
    candidate = _post(
        http,
        "/candidates",
        {"first_name": "Élise", "last_name": "Dupont", "email": "elise@example.org"},
    )
    application = _post(
        http,
        "/applications",
        {"kind": "specific", "job_id": job["id"], "candidate_id": candidate["id"]},
    )

    dossier_id = _post(http, f"/applications/{application['id']}/validate")["dossier_id"]

    [validated] = mailbox.wait_for(1)
    assert validated.rcpt_tos == ["elise@example.org"]
    assert "Agent technique" in str(validated.message["Subject"])
    assert "validée" in validated.message.get_body(("plain",)).get_content()

    trial = _post(
        http,
        f"/jobs/{job['id']}/trials",
        {
            "kind": "written",
            "title": "Épreuve écrite",
            "location": "Hôtel de ville",
            "starts_at": "2026-03-29T10:00:00+02:00",
            "duration_minutes": 90,
            "info": "Apportez un stylo.",
        },
    )
    invited = _post(http, f"/trials/{trial['id']}/invitations", {"dossier_ids": [dossier_id]})
    participation_id = invited["invited"][0]["id"]

    [invitation] = mailbox.wait_for(1, where=lambda m: "Convocation" in str(m.message["Subject"]))
    message = invitation.message
    assert message.get_content_type() == "multipart/mixed"
    alternative = message.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    assert alternative.get_payload()[2].get_param("method") == "REQUEST"
    attachment = message.get_payload()[1]
    assert attachment.get_filename() == "invite.ics"

    calendar, raw = _calendar(invitation)
    assert raw == attachment.get_payload(decode=True)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert calendar["METHOD"] == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{participation_id}@recrue"
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART").astimezone(UTC) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    assert event["DTSTART"].params["TZID"] == "Europe/Brussels"
    assert str(event["ORGANIZER"]) == "mailto:rh@commune.example"
    assert event["ATTENDEE"].params["RSVP"] == "TRUE"
    assert str(event["ATTENDEE"]) == "mailto:elise@example.org"
    assert str(event["DESCRIPTION"]) == "Apportez un stylo."
    [vtimezone] = calendar.walk("VTIMEZONE")
    assert all("RRULE" in part for part in vtimezone.subcomponents)

    messages = http.get(f"/api/v1/messages?dossier_id={dossier_id}").json()["items"]
    assert {m["kind"]: m["status"] for m in messages} == {
        "application_validated": "sent",
        "trial_invitation": "sent",
    }
    assert all(m["attempts"] == 1 and m["last_response"].startswith("250") for m in messages)
    assert len(mailbox.messages) == 2, "each email once"


def test_publish_failure_after_commit_is_relayed(stack: Stack, mailbox: Mailbox) -> None:
    """The API commits, then cannot reach the broker: beat's relay publishes it later."""
    dead_port = free_port()  # nothing listens there: the broker is down for this API process
    api_port = free_port()
    stack.start(
        "api-broker-down",
        "api",
        "--port",
        str(api_port),
        env={"BROKER_URL": f"redis://127.0.0.1:{dead_port}/0"},
    )
    base = f"http://127.0.0.1:{api_port}"
    wait_until_healthy(base, stack)
    http = httpx.Client(base_url=base, headers=stack.create_api_key("hr"), timeout=10)

    ready = http.get("/readyz")
    assert ready.status_code == 503
    assert "broker" in ready.json()["checks"]

    job = _post(
        http, "/jobs", {"title": "Archiviste", "reference": f"E2E-{uuid.uuid4()}", "year": 2026}
    )
    application = _post(
        http,
        "/applications",
        {
            "kind": "specific",
            "job_id": job["id"],
            "candidate": {"first_name": "Lotte", "last_name": "Maes", "email": "lotte@example.be"},
        },
    )
    validated = _post(http, f"/applications/{application['id']}/validate")
    assert validated["status"] == "validated", (
        "the decision is committed although the broker is down"
    )

    try:
        [received] = mailbox.wait_for(1, timeout=60)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{stack.log_tails()}") from None
    assert received.rcpt_tos == ["lotte@example.be"]
    messages = http.get(f"/api/v1/messages?dossier_id={validated['dossier_id']}").json()["items"]
    assert [m["status"] for m in messages] == ["sent"]
    assert len(mailbox.messages) == 1


def test_readyz_with_the_real_services(stack: Stack) -> None:
    response = httpx.get(f"{stack.base_url}/readyz", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}
    metrics = httpx.get(f"{stack.base_url}/metrics", timeout=10)
    assert "recrue_http_requests_total" in metrics.text
