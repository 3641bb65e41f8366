"""The foundation's slice as a user drives it: validate an application, invite to a trial."""

import time
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import httpx
import icalendar


def post(http: httpx.Client, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = http.post(f"/api/v1{path}", json=body)
    assert response.status_code in (200, 201, 202), response.text
    return dict(response.json())


def wait_for_statuses(
    http: httpx.Client, dossier_id: str, statuses: set[str], count: int, timeout: float = 20
) -> list[dict[str, Any]]:
    """The dossier's messages once `count` of them are in `statuses` (the worker records the
    SMTP answer just after the server accepted the email, so the row lags the mailbox)."""
    deadline = time.monotonic() + timeout
    while True:
        items = http.get(f"/api/v1/messages?dossier_id={dossier_id}").json()["items"]
        if sum(m["status"] in statuses for m in items) >= count:
            return list(items)
        assert time.monotonic() < deadline, f"messages stayed {[m['status'] for m in items]}"
        time.sleep(0.1)


def apply_and_validate(http: httpx.Client, email: str, reference: str) -> tuple[str, str]:
    """Create a job, a candidate and a specific application, validate it; (job id, dossier id)."""
    job = post(http, "/jobs", {"title": "Agent technique", "reference": reference, "year": 2026})
    candidate = post(
        http, "/candidates", {"first_name": "Élise", "last_name": "Dupont", "email": email}
    )
    application = post(
        http,
        "/applications",
        {"kind": "specific", "job_id": job["id"], "candidate_id": candidate["id"]},
    )
    return job["id"], post(http, f"/applications/{application['id']}/validate")["dossier_id"]


def invite_to_written_trial(http: httpx.Client, job_id: str, dossier_id: str) -> str:
    """Plan a written trial on the Sunday DST starts and invite the dossier; participation id."""
    trial = post(
        http,
        f"/jobs/{job_id}/trials",
        {
            "kind": "written",
            "title": "Épreuve écrite",
            "location": "Hôtel de ville",
            "starts_at": "2027-03-28T10:00:00+02:00",
            "duration_minutes": 90,
            "info": "Apportez un stylo.",
        },
    )
    invited = post(http, f"/trials/{trial['id']}/invitations", {"dossier_ids": [dossier_id]})
    return str(invited["invited"][0]["id"])


def assert_validation_email(message: EmailMessage) -> None:
    assert "Agent technique" in str(message["Subject"])
    body = message.get_body(("plain",))
    assert body is not None and "validée" in body.get_content()


def assert_invitation(message: EmailMessage, participation_id: str, attendee: str) -> None:
    """The MIME layout of an invitation and the calendar it carries, parsed back."""
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()  # type: ignore[misc]
    assert alternative.get_content_type() == "multipart/alternative"
    parts = alternative.get_payload()
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html", "text/calendar"]
    assert parts[2].get_param("method") == "REQUEST"
    assert attachment.get_filename() == "invite.ics"

    raw = parts[2].get_payload(decode=True)
    assert raw == attachment.get_payload(decode=True)
    assert b"\n" not in raw.replace(b"\r\n", b""), "every line ends with CRLF"
    calendar = icalendar.Calendar.from_ical(raw)
    assert calendar["METHOD"] == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{participation_id}@recrue"
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART").astimezone(UTC) == datetime(2027, 3, 28, 8, 0, tzinfo=UTC)
    assert event.decoded("DTEND").astimezone(UTC) == datetime(2027, 3, 28, 9, 30, tzinfo=UTC)
    assert event["DTSTART"].params["TZID"] == "Europe/Brussels"
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert event["ATTENDEE"].params["RSVP"] == "TRUE"
    assert str(event["ATTENDEE"]) == f"mailto:{attendee}"
    # The event carries the trial's information, then the candidate's own answer page, which
    # is the page of the email's links, and URL is that page.
    description = str(event["DESCRIPTION"])
    assert description.startswith("Apportez un stylo.\n\n"), description
    page = str(event["URL"])
    assert f"Pour accepter ou refuser cette invitation\xa0: {page}" in description
    text = parts[0].get_content()
    assert f"{page}?answer=accept" in text and f"{page}?answer=decline" in text
    [vtimezone] = calendar.walk("VTIMEZONE")
    assert vtimezone.subcomponents and all("RRULE" in p for p in vtimezone.subcomponents)
    # The VTIMEZONE itself, not just the TZID's name, gives 10:00 local = 08:00 UTC.
    zone = vtimezone.to_tz(lookup_tzid=False)
    assert event.decoded("DTSTART").replace(tzinfo=zone).astimezone(UTC).hour == 8
