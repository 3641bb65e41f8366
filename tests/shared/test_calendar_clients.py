"""Invitations from shared.calendar as other software reads them.

Every REQUEST, update and CANCEL must parse without errors with ``icalendar`` and with the strict
``ical`` package, and be accepted by a real CalDAV server (Radicale, started here as a subprocess),
with the right instants in the DST weeks of Europe/Brussels.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
from ical.calendar import Calendar as IcalCalendar
from ical.calendar_stream import IcsCalendarStream
from ical.event import Event as IcalEvent
from ical.event import EventStatus

from shared.calendar import TrialEvent, build_cancel, build_request

UID = "3f0c2b7e-participation-42@recrue"
SUMMARY = "Épreuve écrite, session 2; analyste de données – Zoë"
DESCRIPTION = (
    "Apportez votre ordinateur portable, une pièce d'identité; rien d'autre.\n"
    "Prüfung: bitte pünktlich, Straße 2; 3. Stock, Raum «Ça» \\ Nord."
)
LOCATION = "Rue de la Loi 16, 1000 Bruxelles; salle « Égalité », 2e étage"
DURATION = timedelta(hours=2)


@dataclasses.dataclass(frozen=True)
class Scenario:
    zone: str
    local: datetime  # naive wall-clock time in ``zone``
    fold: int
    expected_utc: datetime  # written out by hand: an oracle independent of zoneinfo

    @property
    def starts_at(self) -> datetime:
        return self.local.replace(tzinfo=ZoneInfo(self.zone), fold=self.fold)


SCENARIOS = [
    pytest.param(
        Scenario("Europe/Brussels", datetime(2026, 3, 29, 10, 0), 0, datetime(2026, 3, 29, 8, 0)),
        id="brussels-dst-starts",
    ),
    pytest.param(
        Scenario(
            "Europe/Brussels", datetime(2026, 10, 25, 2, 30), 0, datetime(2026, 10, 25, 0, 30)
        ),
        id="brussels-repeated-hour-first-pass",
    ),
    pytest.param(
        Scenario(
            "Europe/Brussels", datetime(2026, 10, 25, 2, 30), 1, datetime(2026, 10, 25, 1, 30)
        ),
        id="brussels-repeated-hour-second-pass",
    ),
    pytest.param(
        Scenario("Europe/Brussels", datetime(2026, 10, 25, 10, 0), 0, datetime(2026, 10, 25, 9, 0)),
        id="brussels-dst-ends",
    ),
    pytest.param(
        Scenario("UTC", datetime(2026, 3, 29, 8, 0), 0, datetime(2026, 3, 29, 8, 0)),
        id="utc",
    ),
    pytest.param(
        Scenario("America/New_York", datetime(2026, 3, 8, 9, 0), 0, datetime(2026, 3, 8, 13, 0)),
        id="new-york-dst-starts",
    ),
    pytest.param(
        Scenario("America/New_York", datetime(2026, 11, 1, 1, 30), 0, datetime(2026, 11, 1, 5, 30)),
        id="new-york-repeated-hour-first-pass",
    ),
    pytest.param(
        Scenario("Asia/Tokyo", datetime(2026, 7, 1, 14, 0), 0, datetime(2026, 7, 1, 5, 0)),
        id="tokyo",
    ),
]

KINDS = ["request", "update", "cancel"]


def make_event(**overrides: object) -> TrialEvent:
    fields: dict[str, object] = {
        "uid": UID,
        "sequence": 0,
        "summary": SUMMARY,
        "description": DESCRIPTION,
        "location": LOCATION,
        "starts_at": datetime(2026, 5, 12, 9, 30, tzinfo=ZoneInfo("Europe/Brussels")),
        "duration": DURATION,
        "timezone": "Europe/Brussels",
        "organizer_email": "jobs@recrue.example",
        "organizer_name": "Recrue, HR team",
        "attendee_email": "zoe.muller@example.org",
        "attendee_name": "Zoë Müller",
        "stamp": datetime(2026, 3, 1, 14, 5, 9, tzinfo=UTC),
    }
    fields.update(overrides)
    return TrialEvent(**fields)  # type: ignore[arg-type]


def original_invitation(scenario: Scenario) -> TrialEvent:
    """The first invitation, 24 h before the scenario's time (which the update moves it to)."""
    # Subtract on the UTC instant: aware arithmetic in the zone would shift wall-clock time.
    starts_at = scenario.starts_at.astimezone(UTC) - timedelta(days=1)
    return make_event(timezone=scenario.zone, starts_at=starts_at, sequence=0)


def message(kind: str, scenario: Scenario) -> tuple[TrialEvent, bytes]:
    """The event and iTIP bytes of one kind of message, all starting at the scenario's time."""
    event = make_event(timezone=scenario.zone, starts_at=scenario.starts_at)
    if kind == "request":
        return event, build_request(event)
    if kind == "update":
        # The trial is postponed by a day to the scenario's time: same UID, higher SEQUENCE.
        event = dataclasses.replace(event, sequence=1)
        return event, build_request(event)
    assert kind == "cancel"
    event = dataclasses.replace(event, sequence=2, cancelled=True)
    return event, build_cancel(event)


def strict_parse(raw: bytes | str) -> IcalCalendar:
    """Parse with ``ical``: pydantic models that raise on any invalid or missing value."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    return IcsCalendarStream.calendar_from_ics(text)


def only_event(cal: IcalCalendar) -> IcalEvent:
    assert len(cal.events) == 1, f"expected one VEVENT, got {len(cal.events)}"
    return cal.events[0]


def lenient_parse(raw: bytes | str) -> icalendar.Calendar:
    """Parse with ``icalendar``, which records bad values in ``.errors`` instead of raising."""
    cal = icalendar.Calendar.from_ical(raw)
    errors = [(component.name, component.errors) for component in cal.walk() if component.errors]
    assert not errors, errors
    return cal


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def with_unknown_tzid(raw: bytes, zone: str) -> bytes:
    """Rename the TZID so a reader cannot use its own copy of the zone, only our VTIMEZONE."""
    return raw.replace(zone.encode(), b"X-Recrue-Test/Only-Vtimezone")


# --- ical (strict) and icalendar -------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_strict_ical_parses_every_message(kind: str, scenario: Scenario) -> None:
    event, raw = message(kind, scenario)

    cal = strict_parse(raw)
    assert cal.method == ("CANCEL" if kind == "cancel" else "REQUEST")
    parsed = only_event(cal)
    assert parsed.uid == UID
    assert parsed.sequence == event.sequence
    assert isinstance(parsed.dtstart, datetime)
    assert isinstance(parsed.dtend, datetime)
    assert parsed.dtstart.astimezone(UTC) == utc(scenario.expected_utc)
    assert parsed.dtend.astimezone(UTC) - parsed.dtstart.astimezone(UTC) == DURATION
    expected_status = EventStatus.CANCELLED if kind == "cancel" else EventStatus.CONFIRMED
    assert parsed.status == expected_status
    assert parsed.summary == SUMMARY
    assert parsed.description == DESCRIPTION
    assert parsed.location == LOCATION
    assert parsed.organizer is not None
    assert parsed.organizer.uri == "mailto:jobs@recrue.example"
    assert parsed.organizer.common_name == "Recrue, HR team"
    [attendee] = parsed.attendees
    assert attendee.uri == "mailto:zoe.muller@example.org"
    assert attendee.common_name == "Zoë Müller"

    if kind == "update":
        original = only_event(strict_parse(build_request(original_invitation(scenario))))
        assert parsed.uid == original.uid
        assert original.sequence is not None and parsed.sequence > original.sequence
        assert isinstance(original.dtstart, datetime)
        assert parsed.dtstart.astimezone(UTC) > original.dtstart.astimezone(UTC)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_icalendar_parses_every_message_without_errors(kind: str, scenario: Scenario) -> None:
    event, raw = message(kind, scenario)

    vevent = lenient_parse(raw).walk("VEVENT")[0]
    assert vevent["UID"] == UID
    assert vevent.decoded("SEQUENCE") == event.sequence
    assert vevent.decoded("DTSTART").astimezone(UTC) == utc(scenario.expected_utc)
    assert vevent["STATUS"] == ("CANCELLED" if kind == "cancel" else "CONFIRMED")
    assert vevent["SUMMARY"] == SUMMARY
    assert vevent["DESCRIPTION"] == DESCRIPTION
    assert vevent["LOCATION"] == LOCATION


def _vtimezone_only_params() -> list[Any]:
    params: list[Any] = []
    for param in SCENARIOS:
        (scenario,) = param.values
        assert isinstance(scenario, Scenario)
        if scenario.zone == "UTC":
            continue  # written with Z times, there is no VTIMEZONE to read
        # Tokyo included: ical 14.3 reads an observance without RRULE as UTC, so the builder
        # gives a zone without DST a yearly rule that changes nothing.
        params.append(pytest.param(scenario, id=param.id))
    return params


@pytest.mark.parametrize("scenario", _vtimezone_only_params())
def test_strict_ical_reads_the_right_instant_from_our_vtimezone_alone(scenario: Scenario) -> None:
    # ical prefers its own tzdata for a known TZID, which would hide a wrong VTIMEZONE.
    raw = with_unknown_tzid(
        build_request(make_event(timezone=scenario.zone, starts_at=scenario.starts_at)),
        scenario.zone,
    )

    parsed = only_event(strict_parse(raw))
    assert isinstance(parsed.dtstart, datetime)
    assert isinstance(parsed.dtend, datetime)
    assert parsed.dtstart.astimezone(UTC) == utc(scenario.expected_utc)
    assert parsed.dtend.astimezone(UTC) == utc(scenario.expected_utc) + DURATION


# --- Radicale --------------------------------------------------------------------------------

CALDAV_USER = "recrue"
ICS = {"Content-Type": "text/calendar; charset=utf-8"}
XML = {"Content-Type": "application/xml; charset=utf-8"}
DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Radicale server on a free local port; yields its base URL."""
    root = tmp_path_factory.mktemp("radicale")
    port = _free_port()
    config = root / "config"
    # auth "none" takes any user name and password; owner_only then lets that user write under
    # /<user>/, which is all these tests need.
    config.write_text(
        f"""[server]
hosts = 127.0.0.1:{port}

[auth]
type = none

[rights]
type = owner_only

[storage]
filesystem_folder = {root / "collections"}

[logging]
level = warning
""",
        encoding="utf-8",
    )
    env = {key: value for key, value in os.environ.items() if key != "RADICALE_CONFIG"}
    env["HOME"] = str(root)  # no ~/.config/radicale/config from the machine
    log_path = root / "radicale.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_up(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text(errors="replace")
            pytest.fail(f"Radicale exited with {process.returncode}:\n{log}")
        try:
            httpx.request("OPTIONS", base_url + "/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail(f"Radicale did not answer within 10 s:\n{log_path.read_text(errors='replace')}")


@dataclasses.dataclass
class CalDavCalendar:
    client: httpx.Client
    path: str  # collection path, ending with "/"

    def href(self, uid: str) -> str:
        return self.path + quote(f"{uid}.ics", safe="")

    def put(self, uid: str, raw: bytes) -> httpx.Response:
        # Stored as built, METHOD included: Radicale 3.9 accepts it. RFC 4791 4.1 says stored
        # calendar objects must not carry METHOD (it belongs to the iTIP e-mail transport), so a
        # client saving the invitation to a stricter server should drop that line first.
        return self.client.put(self.href(uid), content=raw, headers=ICS)

    def get(self, uid: str) -> str:
        response = self.client.get(self.href(uid))
        assert response.status_code == 200, response.text
        return response.text

    def query(self, start: datetime, end: datetime) -> dict[str, str]:
        """calendar-query REPORT for VEVENTs overlapping [start, end): {href: calendar-data}."""
        body = f"""<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT">
        <C:time-range start="{start:%Y%m%dT%H%M%SZ}" end="{end:%Y%m%dT%H%M%SZ}"/>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>"""
        response = self.client.request(
            "REPORT", self.path, content=body, headers={**XML, "Depth": "1"}
        )
        assert response.status_code == 207, response.text
        found = {}
        for item in ET.fromstring(response.content).iter(f"{DAV}response"):
            href = item.findtext(f"{DAV}href")
            data = item.findtext(f".//{CALDAV}calendar-data")
            assert href is not None and data is not None, response.text
            found[unquote(href)] = data
        return found


@pytest.fixture
def calendar(radicale: str) -> Iterator[CalDavCalendar]:
    """A fresh calendar collection per test, so time-range queries see only that test's event."""
    path = f"/{CALDAV_USER}/trials-{uuid.uuid4().hex[:12]}/"
    body = """<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop>
    <D:displayname>Recrue trials</D:displayname>
    <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
  </D:prop></D:set>
</C:mkcalendar>"""
    with httpx.Client(base_url=radicale, auth=(CALDAV_USER, "unused"), timeout=10) as client:
        response = client.request("MKCALENDAR", path, content=body, headers=XML)
        assert response.status_code == 201, response.text
        yield CalDavCalendar(client, path)


def _stored_event(text: str) -> IcalEvent:
    lenient_parse(text)
    return only_event(strict_parse(text))


def _start_utc(event: IcalEvent) -> datetime:
    assert isinstance(event.dtstart, datetime)
    return event.dtstart.astimezone(UTC)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_radicale_accepts_invitation_update_and_cancel(
    calendar: CalDavCalendar, scenario: Scenario
) -> None:
    original = original_invitation(scenario)
    original_utc = utc(scenario.expected_utc) - timedelta(days=1)
    new_utc = utc(scenario.expected_utc)

    response = calendar.put(UID, build_request(original))
    assert response.status_code == 201, response.text
    stored = _stored_event(calendar.get(UID))
    assert (stored.uid, stored.sequence, _start_utc(stored)) == (UID, 0, original_utc)
    assert stored.status == EventStatus.CONFIRMED

    _, raw_update = message("update", scenario)
    response = calendar.put(UID, raw_update)
    assert response.status_code in (201, 204), response.text
    stored = _stored_event(calendar.get(UID))
    assert (stored.uid, stored.sequence, _start_utc(stored)) == (UID, 1, new_utc)
    assert stored.summary == SUMMARY and stored.location == LOCATION
    assert stored.description == DESCRIPTION

    # The server places the event at the new instant only, which needs it to resolve the time.
    href = unquote(calendar.href(UID))
    assert set(calendar.query(new_utc, new_utc + timedelta(minutes=30))) == {href}
    assert calendar.query(original_utc, original_utc + timedelta(minutes=30)) == {}

    _, raw_cancel = message("cancel", scenario)
    response = calendar.put(UID, raw_cancel)
    assert response.status_code in (201, 204), response.text
    stored = _stored_event(calendar.get(UID))
    assert (stored.uid, stored.sequence, _start_utc(stored)) == (UID, 2, new_utc)
    assert stored.status == EventStatus.CANCELLED


BRUSSELS_DST_CASES = [
    # (local wall time, fold, duration, window that must find it, window that must not)
    # 10:00 CEST is 08:00Z; read as CET it would be 09:00Z.
    pytest.param(
        datetime(2026, 3, 29, 10, 0), 0, timedelta(hours=1),
        (datetime(2026, 3, 29, 8, 0), datetime(2026, 3, 29, 8, 30)),
        (datetime(2026, 3, 29, 9, 0), datetime(2026, 3, 29, 9, 30)),
        id="dst-starts-10h00",
    ),
    # 10:00 CET is 09:00Z; read as CEST it would be 08:00Z.
    pytest.param(
        datetime(2026, 10, 25, 10, 0), 0, timedelta(hours=1),
        (datetime(2026, 10, 25, 9, 0), datetime(2026, 10, 25, 9, 30)),
        (datetime(2026, 10, 25, 8, 0), datetime(2026, 10, 25, 8, 30)),
        id="dst-ends-10h00",
    ),
    # First 02:30 (CEST) is 00:30Z, written with TZID; read as CET it would be 01:30Z-03:30Z.
    pytest.param(
        datetime(2026, 10, 25, 2, 30), 0, timedelta(hours=2),
        (datetime(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 1, 0)),
        (datetime(2026, 10, 25, 2, 30), datetime(2026, 10, 25, 3, 0)),
        id="repeated-hour-first-pass",
    ),
    # Second 02:30 (CET) is 01:30Z, written in UTC; the first 02:30 would be 00:30Z-01:30Z.
    pytest.param(
        datetime(2026, 10, 25, 2, 30), 1, timedelta(hours=1),
        (datetime(2026, 10, 25, 1, 30), datetime(2026, 10, 25, 2, 0)),
        (datetime(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 1, 0)),
        id="repeated-hour-second-pass",
    ),
]  # fmt: skip


def _with_vtimezone_only_variants(cases: list[Any]) -> list[Any]:
    """Each case as is, plus with an unknown TZID where the event is written with a TZID."""
    params: list[Any] = []
    for case in cases:
        local, fold, duration, *_ = case.values
        params.append(pytest.param(*case.values, False, id=f"{case.id}-iana-tzid"))
        starts_at = local.replace(tzinfo=ZoneInfo("Europe/Brussels"), fold=fold)
        if b"TZID=" in build_request(make_event(starts_at=starts_at, duration=duration)):
            params.append(pytest.param(*case.values, True, id=f"{case.id}-vtimezone-only"))
    return params


@pytest.mark.parametrize(
    ("local", "fold", "duration", "hit", "miss", "vtimezone_only"),
    _with_vtimezone_only_variants(BRUSSELS_DST_CASES),
)
def test_radicale_time_range_in_brussels_dst_weeks(
    calendar: CalDavCalendar,
    local: datetime,
    fold: int,
    duration: timedelta,
    hit: tuple[datetime, datetime],
    miss: tuple[datetime, datetime],
    vtimezone_only: bool,
) -> None:
    starts_at = local.replace(tzinfo=ZoneInfo("Europe/Brussels"), fold=fold)
    raw = build_request(make_event(starts_at=starts_at, duration=duration))
    if vtimezone_only:
        # Our VTIMEZONE is then the only source of offsets for Radicale and for ical (which
        # would use its own tzdata for Europe/Brussels; Radicale 3.9 reads the VTIMEZONE anyway).
        raw = with_unknown_tzid(raw, "Europe/Brussels")

    response = calendar.put(UID, raw)
    assert response.status_code == 201, response.text

    found = calendar.query(utc(hit[0]), utc(hit[1]))
    assert set(found) == {unquote(calendar.href(UID))}
    assert _start_utc(only_event(strict_parse(next(iter(found.values()))))) == utc(hit[0])
    assert calendar.query(utc(miss[0]), utc(miss[1])) == {}
