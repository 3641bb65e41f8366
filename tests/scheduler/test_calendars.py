"""The scheduler's calendar blocks: one email per change, even when a block comes twice."""

import uuid
from typing import Any

import icalendar
from sqlalchemy import func, select

from services.scheduler.invitations import send_calendars
from shared.db import session_scope
from shared.emails.texts import render
from shared.models import CandidateToken, Message, OutboxEvent, Participation
from shared.tasks import SEND_CALENDARS, SendCalendars


def _blocks() -> list[SendCalendars]:
    with session_scope() as session:
        events = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.task_name == SEND_CALENDARS)
            .order_by(OutboxEvent.created_at)
        )
        return [SendCalendars.model_validate(e.payload) for e in events]


def test_a_block_delivered_twice_queues_each_email_once(build: Any) -> None:
    job = build.job()
    dossiers = [build.dossier(job) for _ in range(3)]
    trial = build.written_trial(job)
    build.invite(trial, *dossiers)
    [block] = _blocks()  # the three invitations travel together
    assert len(block.items) == 3

    send_calendars(block, publish=lambda _: None)
    send_calendars(block, publish=lambda _: None)  # the broker delivered it again

    dossier_ids = [uuid.UUID(d["id"]) for d in dossiers]
    with session_scope() as session:
        messages = session.scalars(
            select(Message).where(
                Message.dossier_id.in_(dossier_ids), Message.kind != "application_validated"
            )
        ).all()
        links = session.scalar(
            select(func.count())
            .select_from(CandidateToken)
            .join(Participation, CandidateToken.participation_id == Participation.id)
            .where(Participation.trial_id == uuid.UUID(trial["id"]))
        )
    assert sorted(m.dossier_id for m in messages) == sorted(dossier_ids)
    assert {m.kind for m in messages} == {"trial_invitation"}
    assert links == 3, "the second delivery issued no new links"
    for message in messages:
        assert message.calendar_ics is not None
        [event] = icalendar.Calendar.from_ical(message.calendar_ics).walk("VEVENT")
        assert int(event["SEQUENCE"]) == 0


def test_a_change_of_place_says_so_and_keeps_the_time(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job()
    dossier = build.dossier(job)
    trial = build.written_trial(job)
    build.invite(trial, dossier)
    moved = client.patch(
        f"/api/v1/trials/{trial['id']}",
        json={"location": "Salle des fêtes, rue Haute 3", "reason": "travaux"},
        headers=hr,
    )
    assert moved.status_code == 200, moved.text
    for block in _blocks():
        send_calendars(block, publish=lambda _: None)

    with session_scope() as session:
        [message] = session.scalars(
            select(Message).where(Message.kind.in_(("trial_changed", "postponement")))
        ).all()
        assert message.kind == "trial_changed"
        subject, text, _ = render(message.kind, message.language, message.context)
    assert subject.startswith("Modification : ")
    assert "a changé : le lieu. Sa date et son heure restent inchangées." in text
    assert "Salle des fêtes, rue Haute 3" in text
    assert "initialement prévue" not in text and "reportée" not in text
    assert message.calendar_ics is not None
    [event] = icalendar.Calendar.from_ical(message.calendar_ics).walk("VEVENT")
    assert int(event["SEQUENCE"]) == 1
    assert str(event["LOCATION"]) == "Salle des fêtes, rue Haute 3"
    assert event.decoded("DTSTART").isoformat() == "2027-03-28T10:00:00+02:00"
