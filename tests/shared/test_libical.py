"""libical (the C library of Evolution, KDE, Cyrus and many CalDAV servers) accepts every
calendar Recrue sends, without one X-LIC-ERROR: invitations, updates and cancellations in every
zone of the calendar tests, a trial with no place and no information, and the calendars the
scheduler itself attached to its emails. Needs libical-dev and a C compiler (tests/libical.py);
deselected otherwise."""

import dataclasses
from typing import Any

import pytest
from sqlalchemy import select

from shared.calendar import build_cancel, build_request
from shared.db import session_scope
from shared.models import Message
from tests import libical
from tests.shared.test_calendar_clients import KINDS, SCENARIOS, Scenario, make_event, message

pytestmark = pytest.mark.libical


def test_the_checker_sees_what_libical_rejects() -> None:
    bad = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\n"
        "DTSTAMP:20270101T000000Z\r\nLOCATION:\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    assert libical.errors(bad) != []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_libical_accepts_every_message(kind: str, scenario: Scenario) -> None:
    _, raw = message(kind, scenario)
    assert libical.errors(raw.decode()) == []


@pytest.mark.parametrize("cancelled", [False, True])
def test_no_empty_place_or_information(cancelled: bool) -> None:
    event = make_event(description="", location="")
    raw = build_cancel(dataclasses.replace(event, cancelled=True)) if cancelled else None
    raw = raw or build_request(event)
    assert b"DESCRIPTION" not in raw and b"LOCATION" not in raw
    assert libical.errors(raw.decode()) == []


def test_the_calendars_the_scheduler_sent(client: Any, build: Any, hr: dict[str, str]) -> None:
    from tests.replies_flow import invited, run_calendars

    for fields in ({}, {"location": "", "info": ""}):
        job, dossier, candidate, p = invited(build, client, hr, **fields)
        run_calendars()
        client.post(f"/api/v1/participations/{p['id']}/cancel", json={}, headers=hr)
        run_calendars()
    with session_scope() as session:
        calendars = session.scalars(
            select(Message.calendar_ics).where(Message.calendar_ics.is_not(None))
        ).all()
    assert len(calendars) == 4
    for ics in calendars:
        assert libical.errors(ics) == [], ics
