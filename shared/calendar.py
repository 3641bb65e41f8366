"""Pure iCalendar (RFC 5545 / iTIP RFC 5546) builder for trial invitations.

Data in, bytes out: no clock, no I/O, so the same participation always yields the same bytes.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import icalendar

PRODID = "-//Recrue//Recrue//EN"

# Zones that must be written as Z times: a VTIMEZONE for UTC only adds room for client bugs.
_UTC_NAMES = frozenset({"UTC", "Etc/UTC"})

# Observances are anchored in 1970 like tzurl.org, Apple and Thunderbird do, so an event early in
# its year is never before the first onset (which leaves clients guessing the offset).
_ANCHOR_YEAR = 1970

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_HOUR = timedelta(hours=1)
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class TrialEvent:
    uid: str  # stable per participation, e.g. "3f0c...@recrue"
    sequence: int  # 0 for first invite, raised on each update
    summary: str
    # What the event says: the trial's information ("bring your laptop"), and in an invitation
    # the candidate's own link, deadline and HR contact (services/scheduler/invitations.py).
    description: str
    location: str
    starts_at: datetime  # timezone-aware (any tz)
    duration: timedelta
    timezone: str  # IANA name of the trial, e.g. "Europe/Brussels"
    organizer_email: str
    organizer_name: str
    attendee_email: str
    attendee_name: str
    stamp: datetime  # aware, used for DTSTAMP (passed in so the builder stays pure)
    cancelled: bool = False
    url: str = ""  # the candidate's page about this trial (URL), if they have one


def build_request(event: TrialEvent) -> bytes:
    """Return an iTIP REQUEST (invitation or update) for the event as iCalendar bytes."""
    if event.cancelled:
        # A REQUEST for a cancelled trial would put it back in the attendee's calendar.
        raise ValueError("event is cancelled: use build_cancel()")
    return _build(event, method="REQUEST", status="CONFIRMED")


def build_cancel(event: TrialEvent) -> bytes:
    """Return an iTIP CANCEL for the event as iCalendar bytes."""
    return _build(event, method="CANCEL", status="CANCELLED")


def vtimezone(tzid: str, year: int) -> icalendar.Timezone | None:
    """Return an RRULE-based VTIMEZONE valid for ``year`` and the next, or None if irregular."""
    plan = _zone_plan(tzid, year)
    if plan is None:
        return None
    anchor_year = min(_ANCHOR_YEAR, year - 1)
    component = icalendar.Timezone()
    component.add("tzid", tzid)
    if isinstance(plan, _Fixed):
        # A yearly rule that changes nothing: strict readers (the ical package) ignore a lone
        # onset that does not recur and would read the zone as UTC.
        component.add_component(
            _observance(
                "STANDARD",
                datetime(anchor_year, 1, 1),
                plan.offset,
                plan.offset,
                plan.name,
                {"freq": "yearly"},
            )
        )
        return component
    for rule in sorted(plan, key=lambda r: r.offset_to):
        # The larger offset is summer time; zoneinfo's dst() is unreliable for negative-DST zones
        # such as Europe/Dublin.
        kind = "DAYLIGHT" if rule.offset_to > rule.offset_from else "STANDARD"
        onset = _nth_weekday(anchor_year, rule.month, rule.weekday, rule.ordinal)
        component.add_component(
            _observance(
                kind,
                datetime.combine(onset, rule.local_time),
                rule.offset_from,
                rule.offset_to,
                rule.name,
                rrule={
                    "FREQ": "YEARLY",
                    "BYMONTH": rule.month,
                    "BYDAY": f"{rule.ordinal}{_WEEKDAYS[rule.weekday]}",
                },
            )
        )
    return component


@dataclass(frozen=True)
class _Fixed:
    offset: timedelta
    name: str


@lru_cache(maxsize=256)
def _zone_plan(tzid: str, year: int) -> _Fixed | tuple[_Rule, ...] | None:
    """The zone's yearly rules over ``year`` and the next (probing is slow: once per process)."""
    tz = ZoneInfo(tzid)
    window_start = datetime(year, 1, 1, tzinfo=UTC)
    window_end = datetime(year + 2, 1, 1, tzinfo=UTC)
    actual = _transitions(tz, window_start, window_end)
    if not actual:
        return _Fixed(_offset(tz, window_start), window_start.astimezone(tz).tzname() or tzid)
    first_year = [t for t in actual if t.utc < datetime(year + 1, 1, 1, tzinfo=UTC)]
    if len(first_year) != 2:
        return None
    return _fit_rules(first_year, actual, window_start, window_end)


def _build(event: TrialEvent, *, method: str, status: str) -> bytes:
    if event.starts_at.utcoffset() is None or event.stamp.utcoffset() is None:
        raise ValueError("starts_at and stamp must be timezone-aware")

    # Add the duration on the UTC instant: aware arithmetic in a local zone adds wall-clock time,
    # which is an hour off when the trial spans a DST change.
    start_utc = event.starts_at.astimezone(UTC)
    end_utc = start_utc + event.duration

    zone_lines = None
    if event.timezone not in _UTC_NAMES:
        tz = ZoneInfo(event.timezone)
        local_start, local_end = start_utc.astimezone(tz), end_utc.astimezone(tz)
        # RFC 5545 reads a repeated wall-clock time as its first occurrence, so an instant in the
        # second pass of a fall-back hour can only be written in UTC.
        if _is_first_occurrence(local_start) and _is_first_occurrence(local_end):
            zone_lines = _vtimezone_lines(event.timezone, local_start.year)

    # What is the candidate's own (SEQUENCE and DTSTAMP repeat across a block of invitations):
    # UID, ATTENDEE, DESCRIPTION (their link) and URL; the rest is the same for everyone
    # invited to the trial.
    trial = _trial_lines(
        _Trial(
            tzid=None if zone_lines is None else event.timezone,
            start_utc=start_utc,
            end_utc=end_utc,
            summary=event.summary,
            location=event.location,
            status=status,
            organizer_email=event.organizer_email,
            organizer_name=event.organizer_name,
        )
    )
    # The VTIMEZONE goes before the VEVENT that refers to it.
    return b"".join(
        (
            _calendar_head(method),
            zone_lines or b"",
            b"BEGIN:VEVENT\r\n",
            _line("sequence", event.sequence),
            # DTSTAMP is written to the second: the same line for a whole block of invitations.
            _line("dtstamp", event.stamp.astimezone(UTC).replace(microsecond=0)),
            _text_line("UID", event.uid),
            _attendee_line(event.attendee_email, event.attendee_name),
            # An empty DESCRIPTION is not written at all: libical rejects the empty property.
            _text_line("DESCRIPTION", event.description) if event.description.strip() else b"",
            _folded(b"URL:" + event.url.encode()) if event.url else b"",
            trial,
            b"END:VEVENT\r\nEND:VCALENDAR\r\n",
        )
    )


# A bulk invitation writes the same trial for thousands of candidates: the lines that do not
# depend on the candidate are written once by icalendar and reused (RFC 5545 gives no meaning
# to the order of a component's properties).


@dataclass(frozen=True)
class _Trial:
    tzid: str | None  # None: the times are written in UTC
    start_utc: datetime
    end_utc: datetime
    summary: str
    location: str
    status: str
    organizer_email: str
    organizer_name: str


@lru_cache(maxsize=1024)
def _trial_lines(trial: _Trial) -> bytes:
    vevent = icalendar.Event()
    if trial.tzid is None:
        vevent.add("dtstart", trial.start_utc)
        vevent.add("dtend", trial.end_utc)
    else:
        # icalendar writes TZID=<ZoneInfo key>, which is exactly the TZID of the VTIMEZONE.
        zone = ZoneInfo(trial.tzid)
        vevent.add("dtstart", trial.start_utc.astimezone(zone))
        vevent.add("dtend", trial.end_utc.astimezone(zone))
    vevent.add("summary", trial.summary)
    # An empty LOCATION is not written at all: libical rejects the empty property.
    if trial.location.strip():
        vevent.add("location", trial.location)
    vevent.add("status", trial.status)
    vevent.add("transp", "OPAQUE")
    vevent.add("organizer", _address(trial.organizer_email, trial.organizer_name))
    return _inner_lines(vevent)


_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n"})


def _text_line(name: str, value: str) -> bytes:
    """A TEXT property written per candidate, without icalendar (a bulk invitation writes
    thousands): escaped and folded as RFC 5545 says (3.3.11, 3.1)."""
    text = value.replace("\r\n", "\n").replace("\r", "\n").translate(_TEXT_ESCAPES)
    return _folded(f"{name}:{text}".encode())


# The parameters of a candidate's ATTENDEE after CN, in the order icalendar writes them.
_ATTENDEE_PARAMETERS = b";CUTYPE=INDIVIDUAL;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE"


def _attendee_line(email: str, name: str) -> bytes:
    """The candidate's ATTENDEE, without an icalendar component per candidate (it cost two
    thirds of a calendar): icalendar only quotes and escapes the name (RFC 5545, RFC 6868)."""
    cn = icalendar.Parameters({"CN": name}).to_ical()
    return _folded(b"ATTENDEE;" + cn + _ATTENDEE_PARAMETERS + b":mailto:" + email.encode())


def _folded(line: bytes) -> bytes:
    """A content line folded into lines of at most 75 octets, never inside a UTF-8 character,
    nor between a backslash or caret and the character it escapes (some clients read such a
    fold wrongly; icalendar avoids it too)."""
    parts = []
    start, size = 0, 75
    while len(line) - start > size:
        end = start + size
        while line[end] & 0xC0 == 0x80:  # a continuation byte: fold before its character
            end -= 1
        if line[end - 1] in b"\\^" and end - 1 > start:
            end -= 1
        parts.append(line[start:end])
        start, size = end, 74  # the continuation's leading space counts
    parts.append(line[start:])
    return b"\r\n ".join(parts) + b"\r\n"


@lru_cache(maxsize=1024)
def _line(name: str, value: int | datetime) -> bytes:
    """One property's content line, as icalendar writes it."""
    component = icalendar.Event()
    component.add(name, value)
    return _inner_lines(component)


@lru_cache(maxsize=8)
def _calendar_head(method: str) -> bytes:
    """BEGIN:VCALENDAR and the calendar's properties."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    return cal.to_ical().removesuffix(b"END:VCALENDAR\r\n")


def _inner_lines(component: icalendar.cal.component.Component) -> bytes:
    """A component's content lines without its BEGIN and END lines."""
    lines = component.to_ical()
    return lines[lines.index(b"\r\n") + 2 : lines.rindex(b"END:")]


@lru_cache(maxsize=256)
def _vtimezone_lines(tzid: str, year: int) -> bytes | None:
    """The VTIMEZONE's content lines: the same for every event of the zone and year."""
    component = vtimezone(tzid, year)
    return None if component is None else component.to_ical()


def _is_first_occurrence(local: datetime) -> bool:
    return local.replace(fold=0).utcoffset() == local.utcoffset()


def _address(email: str, name: str, **params: str) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{email}")
    address.params["CN"] = name
    for key, value in params.items():
        address.params[key] = value
    return address


def _observance(
    kind: str,
    start: datetime,
    offset_from: timedelta,
    offset_to: timedelta,
    name: str,
    rrule: dict[str, object] | None,
) -> icalendar.TimezoneStandard | icalendar.TimezoneDaylight:
    observance = (
        icalendar.TimezoneDaylight() if kind == "DAYLIGHT" else icalendar.TimezoneStandard()
    )
    observance.add("dtstart", start)
    observance.add("tzoffsetfrom", offset_from)
    observance.add("tzoffsetto", offset_to)
    observance.add("tzname", name)
    if rrule is not None:
        observance.add("rrule", rrule)
    return observance


@dataclass(frozen=True)
class _Transition:
    utc: datetime
    offset_from: timedelta
    offset_to: timedelta
    name: str


@dataclass(frozen=True)
class _Rule:
    month: int
    weekday: int  # 0 = Monday, as date.weekday()
    ordinal: int  # 1..4, or -1 for the last such weekday of the month
    local_time: time  # wall-clock time before the change, as VTIMEZONE DTSTART wants it
    offset_from: timedelta
    offset_to: timedelta
    name: str


def _offset(tz: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None  # a ZoneInfo always knows the offset of a UTC instant
    return offset


def _transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[_Transition]:
    # zoneinfo does not expose its transition table, so probe it: hour steps find the change,
    # minute steps pin it down (some zones change on the half hour, e.g. Australia/Lord_Howe).
    found: list[_Transition] = []
    previous, previous_offset = start, _offset(tz, start)
    instant = start + _HOUR
    while instant <= end:
        offset = _offset(tz, instant)
        if offset != previous_offset:
            onset = previous + _MINUTE
            while _offset(tz, onset) == previous_offset:
                onset += _MINUTE
            found.append(
                _Transition(onset, previous_offset, offset, onset.astimezone(tz).tzname() or "")
            )
        previous, previous_offset = instant, offset
        instant += _HOUR
    return [t for t in found if t.utc < end]


def _candidates(transition: _Transition) -> list[_Rule]:
    local = (transition.utc + transition.offset_from).replace(tzinfo=None)
    day = local.day
    last_day = _stdlib_calendar.monthrange(local.year, local.month)[1]
    ordinals = []
    # Prefer "last": it is how most rules are written, and a 4th Sunday that is also the last
    # one is ambiguous until another year is checked.
    if day + 7 > last_day:
        ordinals.append(-1)
    if (day - 1) // 7 + 1 <= 4:
        ordinals.append((day - 1) // 7 + 1)
    return [
        _Rule(
            local.month,
            local.weekday(),
            ordinal,
            local.time(),
            transition.offset_from,
            transition.offset_to,
            transition.name,
        )
        for ordinal in ordinals
    ]


def _fit_rules(
    first_year: list[_Transition],
    actual: list[_Transition],
    window_start: datetime,
    window_end: datetime,
) -> tuple[_Rule, ...] | None:
    wanted = {(t.utc, t.offset_from, t.offset_to) for t in actual}
    for rules in itertools.product(*(_candidates(t) for t in first_year)):
        if _expand(rules, window_start, window_end) == wanted and len(wanted) == len(actual):
            return rules
    return None


def _expand(
    rules: tuple[_Rule, ...], window_start: datetime, window_end: datetime
) -> set[tuple[datetime, timedelta, timedelta]]:
    expanded = set()
    # One year of margin either side: a local-time onset can fall in the neighbouring UTC year.
    for year in range(window_start.year - 1, window_end.year + 1):
        for rule in rules:
            local = datetime.combine(
                _nth_weekday(year, rule.month, rule.weekday, rule.ordinal), rule.local_time
            )
            instant = (local - rule.offset_from).replace(tzinfo=UTC)
            if window_start <= instant < window_end:
                expanded.add((instant, rule.offset_from, rule.offset_to))
    return expanded


def _nth_weekday(year: int, month: int, weekday: int, ordinal: int) -> date:
    if ordinal == -1:
        last = date(year, month, _stdlib_calendar.monthrange(year, month)[1])
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (ordinal - 1))


@dataclass(frozen=True)
class FeedEvent:
    """One event of a subscribed calendar (an examiner's trials): no organizer, no attendee,
    no METHOD: a feed is read, not answered."""

    uid: str
    summary: str
    description: str
    location: str
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    stamp: datetime  # aware: when the event last changed
    cancelled: bool = False


def build_feed(name: str, events: list[FeedEvent]) -> bytes:
    """A calendar to subscribe to (RFC 5545, without iTIP), its times in UTC."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for item in events:
        vevent = icalendar.Event()
        vevent.add("uid", item.uid)
        vevent.add("dtstamp", item.stamp.astimezone(UTC).replace(microsecond=0))
        vevent.add("dtstart", item.starts_at.astimezone(UTC))
        vevent.add("dtend", item.ends_at.astimezone(UTC))
        vevent.add("summary", item.summary)
        # Empty LOCATION and DESCRIPTION are not written at all: libical rejects them.
        if item.location.strip():
            vevent.add("location", item.location)
        if item.description.strip():
            vevent.add("description", item.description)
        vevent.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        vevent.add("transp", "OPAQUE")
        cal.add_component(vevent)
    return cal.to_ical()
