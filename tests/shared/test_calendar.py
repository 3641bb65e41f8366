"""Unit tests for shared.calendar: build invitations, parse them back, check what clients see."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from shared.calendar import TrialEvent, build_cancel, build_request, vtimezone

BRUSSELS = ZoneInfo("Europe/Brussels")


def make_event(**overrides: object) -> TrialEvent:
    fields: dict[str, object] = {
        "uid": "3f0c2b7e-participation-42@recrue",
        "sequence": 0,
        "summary": "Written test: data analyst",
        "description": "Bring your laptop and an identity document.",
        "location": "Rue de la Loi 16, 1000 Brussels",
        "starts_at": datetime(2026, 5, 12, 9, 30, tzinfo=BRUSSELS),
        "duration": timedelta(hours=2),
        "timezone": "Europe/Brussels",
        "organizer_email": "jobs@recrue.example",
        "organizer_name": "Recrue, HR team",
        "attendee_email": "zoe.muller@example.org",
        "attendee_name": "Zoë Müller",
        "stamp": datetime(2026, 4, 1, 14, 5, 9, tzinfo=BRUSSELS),
    }
    fields.update(overrides)
    return TrialEvent(**fields)  # type: ignore[arg-type]


def parse(raw: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(raw)


def only(cal: icalendar.Calendar, name: str) -> icalendar.Component:
    found = cal.walk(name)
    assert len(found) == 1, f"expected one {name}, got {len(found)}"
    return found[0]


def observances(vtz: icalendar.Component) -> dict[str, icalendar.Component]:
    subs = vtz.subcomponents
    result = {sub.name: sub for sub in subs}
    assert len(result) == len(subs), "one STANDARD and at most one DAYLIGHT expected"
    return result


def start_via_vtimezone(cal: icalendar.Calendar) -> datetime:
    """Resolve DTSTART with the tzinfo built from the VTIMEZONE, not from the TZID name."""
    vtz = only(cal, "VTIMEZONE")
    tz = vtz.to_tz(lookup_tzid=False)
    prop = only(cal, "VEVENT")["DTSTART"]
    assert prop.params["TZID"] == vtz["TZID"]
    return prop.dt.replace(tzinfo=tz).astimezone(UTC)


def test_request_has_itip_headers_and_event_properties() -> None:
    cal = parse(build_request(make_event()))

    assert cal["PRODID"] == "-//Recrue//Recrue//EN"
    assert cal["VERSION"] == "2.0"
    assert cal["CALSCALE"] == "GREGORIAN"
    assert cal["METHOD"] == "REQUEST"

    event = only(cal, "VEVENT")
    assert event["UID"] == "3f0c2b7e-participation-42@recrue"
    assert event.decoded("SEQUENCE") == 0
    assert event["SUMMARY"] == "Written test: data analyst"
    assert event["DESCRIPTION"] == "Bring your laptop and an identity document."
    assert event["LOCATION"] == "Rue de la Loi 16, 1000 Brussels"
    assert event["STATUS"] == "CONFIRMED"
    assert event["TRANSP"] == "OPAQUE"
    assert event.decoded("DTSTAMP") == datetime(2026, 4, 1, 12, 5, 9, tzinfo=UTC)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(hours=2)


def test_request_organizer_and_attendee_parameters() -> None:
    event = only(parse(build_request(make_event())), "VEVENT")

    organizer = event["ORGANIZER"]
    assert organizer == "mailto:jobs@recrue.example"
    assert organizer.params["CN"] == "Recrue, HR team"

    attendee = event["ATTENDEE"]
    assert attendee == "mailto:zoe.muller@example.org"
    assert dict(attendee.params) == {
        "CN": "Zoë Müller",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "NEEDS-ACTION",
        "RSVP": "TRUE",
        "CUTYPE": "INDIVIDUAL",
    }


def test_raw_bytes_use_utc_stamp_and_local_tzid_times() -> None:
    raw = build_request(make_event())

    assert b"\r\nDTSTAMP:20260401T120509Z\r\n" in raw
    assert b"\r\nDTSTART;TZID=Europe/Brussels:20260512T093000\r\n" in raw
    assert b"\r\nDTEND;TZID=Europe/Brussels:20260512T113000\r\n" in raw


def test_brussels_vtimezone_uses_rrules() -> None:
    cal = parse(build_request(make_event()))
    vtz = only(cal, "VTIMEZONE")
    assert vtz["TZID"] == "Europe/Brussels"
    parts = observances(vtz)
    assert set(parts) == {"STANDARD", "DAYLIGHT"}

    daylight, standard = parts["DAYLIGHT"], parts["STANDARD"]
    assert "RDATE" not in daylight and "RDATE" not in standard
    assert daylight["RRULE"] == {"FREQ": ["YEARLY"], "BYMONTH": [3], "BYDAY": ["-1SU"]}
    assert standard["RRULE"] == {"FREQ": ["YEARLY"], "BYMONTH": [10], "BYDAY": ["-1SU"]}
    assert daylight["TZOFFSETFROM"].to_ical() == "+0100"
    assert daylight["TZOFFSETTO"].to_ical() == "+0200"
    assert standard["TZOFFSETFROM"].to_ical() == "+0200"
    assert standard["TZOFFSETTO"].to_ical() == "+0100"
    assert daylight["TZNAME"] == "CEST"
    assert standard["TZNAME"] == "CET"
    # Local wall time before the change, on a date that matches the rule.
    assert daylight.decoded("DTSTART") == datetime(1970, 3, 29, 2, 0)
    assert standard.decoded("DTSTART") == datetime(1970, 10, 25, 3, 0)

    raw = build_request(make_event())
    assert b"BEGIN:VTIMEZONE" in raw
    assert raw.index(b"BEGIN:VTIMEZONE") < raw.index(b"BEGIN:VEVENT")


@pytest.mark.parametrize(
    ("local", "expected_utc"),
    [
        pytest.param(
            datetime(2026, 3, 28, 10, 0), datetime(2026, 3, 28, 9, 0), id="day-before-dst"
        ),
        pytest.param(datetime(2026, 3, 29, 10, 0), datetime(2026, 3, 29, 8, 0), id="dst-starts"),
        pytest.param(datetime(2026, 10, 25, 10, 0), datetime(2026, 10, 25, 9, 0), id="dst-ends"),
        pytest.param(datetime(2026, 10, 24, 10, 0), datetime(2026, 10, 24, 8, 0), id="day-before"),
        pytest.param(datetime(2026, 1, 5, 8, 0), datetime(2026, 1, 5, 7, 0), id="january"),
    ],
)
def test_brussels_times_around_dst(local: datetime, expected_utc: datetime) -> None:
    cal = parse(build_request(make_event(starts_at=local.replace(tzinfo=BRUSSELS))))
    expected = expected_utc.replace(tzinfo=UTC)

    start = only(cal, "VEVENT").decoded("DTSTART")
    assert start.replace(tzinfo=None) == local
    assert start.astimezone(UTC) == expected
    assert start_via_vtimezone(cal) == expected


def test_start_given_in_utc_is_written_in_trial_local_time() -> None:
    cal = parse(build_request(make_event(starts_at=datetime(2026, 3, 29, 8, 0, tzinfo=UTC))))

    prop = only(cal, "VEVENT")["DTSTART"]
    assert prop.params["TZID"] == "Europe/Brussels"
    assert prop.dt.replace(tzinfo=None) == datetime(2026, 3, 29, 10, 0)
    assert start_via_vtimezone(cal) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)


def test_start_given_in_another_zone_is_written_in_trial_local_time() -> None:
    starts_at = datetime(2026, 10, 25, 5, 0, tzinfo=ZoneInfo("America/New_York"))
    cal = parse(build_request(make_event(starts_at=starts_at)))

    prop = only(cal, "VEVENT")["DTSTART"]
    assert prop.params["TZID"] == "Europe/Brussels"
    # 05:00 EDT is 09:00 UTC, and Brussels is back on CET that morning.
    assert prop.dt.replace(tzinfo=None) == datetime(2026, 10, 25, 10, 0)
    assert start_via_vtimezone(cal) == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)


def test_duration_across_dst_change_is_elapsed_time() -> None:
    event = make_event(
        starts_at=datetime(2026, 3, 28, 23, 0, tzinfo=BRUSSELS), duration=timedelta(hours=4)
    )
    cal = parse(build_request(event))

    vevent = only(cal, "VEVENT")
    # 23:00 CET + 4 h lands at 04:00 CEST: five wall-clock hours because 02:00-03:00 is skipped.
    assert vevent.decoded("DTEND").replace(tzinfo=None) == datetime(2026, 3, 29, 4, 0)
    start_utc = vevent.decoded("DTSTART").astimezone(UTC)
    assert vevent.decoded("DTEND").astimezone(UTC) - start_utc == timedelta(hours=4)


def test_second_pass_of_repeated_hour_is_written_in_utc() -> None:
    # 01:30 UTC on 2026-10-25 is 02:30 CET, a wall time that first happened as 02:30 CEST;
    # a TZID time would be read as the first one, an hour early.
    starts_at = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    raw = build_request(make_event(starts_at=starts_at))
    cal = parse(raw)

    assert b"\r\nDTSTART:20261025T013000Z\r\n" in raw
    assert not cal.walk("VTIMEZONE")
    assert only(cal, "VEVENT").decoded("DTSTART") == starts_at


def test_new_york_uses_nth_sunday_rules() -> None:
    event = make_event(
        starts_at=datetime(2026, 3, 8, 9, 0, tzinfo=ZoneInfo("America/New_York")),
        timezone="America/New_York",
    )
    cal = parse(build_request(event))

    parts = observances(only(cal, "VTIMEZONE"))
    assert parts["DAYLIGHT"]["RRULE"] == {"FREQ": ["YEARLY"], "BYMONTH": [3], "BYDAY": ["2SU"]}
    assert parts["STANDARD"]["RRULE"] == {"FREQ": ["YEARLY"], "BYMONTH": [11], "BYDAY": ["1SU"]}
    assert parts["DAYLIGHT"]["TZOFFSETTO"].to_ical() == "-0400"
    assert parts["STANDARD"]["TZOFFSETTO"].to_ical() == "-0500"
    assert start_via_vtimezone(cal) == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)


def test_tokyo_without_dst_has_single_standard_observance() -> None:
    event = make_event(
        starts_at=datetime(2026, 7, 1, 14, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
        timezone="Asia/Tokyo",
    )
    cal = parse(build_request(event))

    vtz = only(cal, "VTIMEZONE")
    assert [sub.name for sub in vtz.subcomponents] == ["STANDARD"]
    standard = vtz.subcomponents[0]
    assert standard["RRULE"] == {"FREQ": ["YEARLY"]}, "a rule that changes nothing"
    assert standard["TZOFFSETFROM"].td == standard["TZOFFSETTO"].td
    assert standard["TZOFFSETFROM"].to_ical() == "+0900"
    assert standard["TZOFFSETTO"].to_ical() == "+0900"
    assert standard["TZNAME"] == "JST"
    assert start_via_vtimezone(cal) == datetime(2026, 7, 1, 5, 0, tzinfo=UTC)


def test_utc_timezone_writes_z_times_and_no_vtimezone() -> None:
    event = make_event(starts_at=datetime(2026, 3, 29, 10, 0, tzinfo=BRUSSELS), timezone="UTC")
    raw = build_request(event)
    cal = parse(raw)

    assert b"VTIMEZONE" not in raw
    assert b"TZID" not in raw
    assert b"\r\nDTSTART:20260329T080000Z\r\n" in raw
    assert b"\r\nDTEND:20260329T100000Z\r\n" in raw
    assert only(cal, "VEVENT").decoded("DTSTART") == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)


def test_irregular_zone_falls_back_to_utc() -> None:
    # Morocco suspends its +01 offset around Ramadan, which no yearly rule can describe.
    assert vtimezone("Africa/Casablanca", 2026) is None

    casablanca = ZoneInfo("Africa/Casablanca")
    starts_at = datetime(2026, 6, 1, 10, 0, tzinfo=casablanca)
    raw = build_request(make_event(starts_at=starts_at, timezone="Africa/Casablanca"))

    assert b"VTIMEZONE" not in raw
    assert b"TZID" not in raw
    assert only(parse(raw), "VEVENT").decoded("DTSTART") == starts_at.astimezone(UTC)


@pytest.mark.parametrize(
    "tzid",
    [
        "Europe/Brussels",
        "Europe/Dublin",  # negative DST in tzdata: winter must still come out as STANDARD
        "America/New_York",
        "America/Santiago",
        "Australia/Sydney",
        "Australia/Lord_Howe",  # 30-minute DST
        "Asia/Kolkata",
        "Asia/Tokyo",
    ],
)
def test_vtimezone_matches_zoneinfo_for_year_and_next(tzid: str) -> None:
    vtz = vtimezone(tzid, 2026)
    assert vtz is not None
    assert vtz["TZID"] == tzid
    for sub in vtz.subcomponents:
        assert "RDATE" not in sub
    daylight = [sub for sub in vtz.subcomponents if sub.name == "DAYLIGHT"]
    standard = [sub for sub in vtz.subcomponents if sub.name == "STANDARD"]
    assert len(standard) == 1
    if daylight:
        assert daylight[0].decoded("TZOFFSETTO") > standard[0].decoded("TZOFFSETTO")

    # Round-trip through bytes so the check covers what a client would read.
    from_vtimezone = icalendar.Timezone.from_ical(vtz.to_ical()).to_tz(lookup_tzid=False)
    reference = ZoneInfo(tzid)

    def offset(instant: datetime) -> timedelta | None:
        return instant.astimezone(reference).utcoffset()

    def offsets_agree(instant: datetime) -> bool:
        return instant.astimezone(from_vtimezone).utcoffset() == offset(instant)

    # The VTIMEZONE-built tzinfo is slow, so probe it daily plus either side of each change.
    instant = datetime(2026, 1, 1, tzinfo=UTC)
    while instant < datetime(2028, 1, 1, tzinfo=UTC):
        assert offsets_agree(instant), instant
        after = instant + timedelta(days=1)
        if offset(after) != offset(instant):
            onset = instant
            while offset(onset) == offset(instant):
                onset += timedelta(minutes=15)
            assert offsets_agree(onset - timedelta(minutes=1)), onset
            assert offsets_agree(onset), onset
        instant = after


def test_cancel_keeps_uid_and_given_sequence() -> None:
    event = make_event(sequence=3, cancelled=True)
    raw = build_cancel(event)
    cal = parse(raw)

    assert cal["METHOD"] == "CANCEL"
    vevent = only(cal, "VEVENT")
    assert vevent["STATUS"] == "CANCELLED"
    assert vevent["UID"] == event.uid
    assert vevent.decoded("SEQUENCE") == 3
    assert vevent["ATTENDEE"] == "mailto:zoe.muller@example.org"
    assert vevent["ORGANIZER"] == "mailto:jobs@recrue.example"
    # Same DTSTART as the invitation so clients can match the instance.
    request = only(parse(build_request(dataclasses.replace(event, cancelled=False))), "VEVENT")
    assert vevent.decoded("DTSTART") == request.decoded("DTSTART")


def test_request_refuses_cancelled_event() -> None:
    with pytest.raises(ValueError, match="cancel"):
        build_request(make_event(cancelled=True))


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_request(make_event(starts_at=datetime(2026, 5, 12, 9, 30)))
    with pytest.raises(ValueError, match="timezone-aware"):
        build_request(make_event(stamp=datetime(2026, 4, 1, 12, 0)))


def test_long_non_ascii_description_round_trips_with_folded_crlf_lines() -> None:
    description = (
        "Épreuve écrite: apportez votre ordinateur portable. Prüfung für Bewerber, "
        "bitte pünktlich erscheinen; Straße und Hausnummer stehen unten.\n"
        "Second paragraph, with commas, semicolons; and a backslash \\ too. " * 4
    ).strip()
    event = make_event(description=description, summary="Entretien – Zoë Müller (ß)")
    raw = build_request(event)

    vevent = only(parse(raw), "VEVENT")
    assert vevent["DESCRIPTION"] == description
    assert vevent["SUMMARY"] == "Entretien – Zoë Müller (ß)"
    assert vevent["ATTENDEE"].params["CN"] == "Zoë Müller"

    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines), "a long DESCRIPTION must be folded"
    for line in lines:
        line.decode("utf-8")  # folding must never split a multi-byte character


@pytest.mark.parametrize("shift", range(6))
def test_attendee_name_with_quotes_round_trips_and_no_fold_splits_an_escape(shift: int) -> None:
    # A double quote in a parameter becomes ^' (RFC 6868); a comma in a text becomes \,. Some
    # clients misread a fold between the escape character and what it escapes.
    name = "x" * shift + 'Anne "Nan" O\'Brien-Lefèvre, née ^Dupont^ ' * 2
    description = ("x" * shift + "Salle 2, étage 3; apportez un stylo, \\ merci. " * 4).strip()
    raw = build_request(make_event(attendee_name=name, description=description))

    vevent = only(parse(raw), "VEVENT")
    assert vevent["ATTENDEE"].params["CN"] == name
    assert vevent["DESCRIPTION"] == description
    lines = raw.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75
    folded = [line for n, line in enumerate(lines[:-1]) if lines[n + 1].startswith(b" ")]
    for line in folded:
        assert not line.endswith((b"\\", b"^")), line
