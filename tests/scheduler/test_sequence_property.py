"""Whatever HR does to a trial, each participation keeps its UID and its SEQUENCE only grows."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services.scheduler.invitations import send_calendars
from shared.db import session_scope
from shared.models import Message, OutboxEvent
from shared.tasks import SendCalendars

START = datetime(2027, 10, 30, 10, 0, tzinfo=UTC)  # the DST change is the next night

operation = st.one_of(
    st.tuples(st.just("postpone_trial"), st.integers(1, 72)),
    st.tuples(st.just("postpone_one"), st.integers(0, 2), st.integers(1, 72)),
    st.tuples(st.just("cancel_one"), st.integers(0, 2)),
    st.tuples(st.just("edit"), st.text("abcdéf ", min_size=1, max_size=12)),
    st.tuples(st.just("cancel_trial")),
)


def _apply(client: Any, hr: dict[str, str], trial: dict[str, Any], step: tuple[Any, ...]) -> None:
    participations = client.get(f"/api/v1/trials/{trial['id']}/participations", headers=hr)
    items = participations.json()["items"]
    kind = step[0]
    if kind == "postpone_trial":
        when = (START + timedelta(hours=step[1])).isoformat()
        client.post(f"/api/v1/trials/{trial['id']}/postpone", json={"starts_at": when}, headers=hr)
    elif kind == "postpone_one":
        when = (START + timedelta(hours=step[2], minutes=7)).isoformat()
        target = items[step[1]]["id"]
        client.post(
            f"/api/v1/participations/{target}/postpone", json={"starts_at": when}, headers=hr
        )
    elif kind == "cancel_one":
        client.post(f"/api/v1/participations/{items[step[1]]['id']}/cancel", json={}, headers=hr)
    elif kind == "edit":
        client.patch(f"/api/v1/trials/{trial['id']}", json={"info": step[1]}, headers=hr)
    else:
        client.post(f"/api/v1/trials/{trial['id']}/cancel", json={}, headers=hr)


def _build_calendars() -> None:
    """Run the scheduler's step for every calendar event, in the order they were written."""
    with session_scope() as session:
        events = [
            SendCalendars.model_validate(e.payload)
            for e in session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.idempotency_key.like("calendar:%"))
                .order_by(OutboxEvent.created_at)
            )
        ]
    for event in events:
        send_calendars(event, publish=lambda _: None)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(operation, min_size=1, max_size=6))
def test_uid_stable_and_sequence_increasing(
    client: Any, build: Any, hr: dict[str, str], steps: list[tuple[Any, ...]]
) -> None:
    job = build.job()
    dossiers = [build.dossier(job) for _ in range(3)]
    trial = build.written_trial(job, starts_at=START.isoformat(), response_deadline=None)
    build.invite(trial, *dossiers)
    _build_calendars()
    for step in steps:
        _apply(client, hr, trial, step)
        _build_calendars()  # a scheduler that keeps up: every SEQUENCE gets its email

    with session_scope() as session:
        messages = session.scalars(
            select(Message)
            .where(
                Message.calendar_ics.is_not(None),
                Message.dossier_id.in_([uuid.UUID(d["id"]) for d in dossiers]),
            )
            .order_by(Message.created_at)
        ).all()
        seen: dict[str, list[int]] = {}
        for message in messages:
            [event] = icalendar.Calendar.from_ical(message.calendar_ics).walk("VEVENT")
            uid = str(event["UID"])
            seen.setdefault(uid, []).append(int(event["SEQUENCE"]))
    assert len(seen) == 3, "one UID per participation, from the first invitation on"
    for sequences in seen.values():
        assert sequences[0] == 0
        assert sequences == sorted(set(sequences)), f"SEQUENCE must strictly increase: {sequences}"
