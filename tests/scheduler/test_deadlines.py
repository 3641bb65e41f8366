"""Beat's deadline sweeps, called directly: expiry, automatic slots, reminders once."""

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from services.scheduler.deadlines import expire_unanswered, send_reminders
from services.scheduler.invitations import send_calendars
from shared.db import session_scope
from shared.emails.render import render
from shared.models import Message, OutboxEvent, Participation, utcnow
from shared.tasks import SEND_CALENDARS, SendCalendars


def _no_publish(_: Any) -> None:
    """The sweeps' events stay in the outbox: these tests read the rows they wrote."""


def _pass_deadline(trial_id: str) -> None:
    with session_scope() as session:
        session.execute(
            update(Participation)
            .where(Participation.trial_id == uuid.UUID(trial_id))
            .values(response_deadline=utcnow() - timedelta(seconds=1))
        )


def _states(client: Any, hr: dict[str, str], trial_id: str) -> list[str]:
    items = client.get(f"/api/v1/trials/{trial_id}/participations", headers=hr).json()["items"]
    return sorted(p["status"] for p in items)


def test_unanswered_invitations_expire_once(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    dossiers = [build.dossier(job) for _ in range(2)]
    trial = build.written_trial(job)
    build.invite(trial, *dossiers)
    _pass_deadline(trial["id"])

    assert expire_unanswered(publish=_no_publish) == 2
    assert expire_unanswered(publish=_no_publish) == 0, "a second beat finds nothing"
    assert _states(client, hr, trial["id"]) == ["expired", "expired"]
    notices = client.get(f"/api/v1/notices?job_id={job['id']}", headers=hr).json()["items"]
    assert [n["action"] for n in notices] == ["invitation_expired", "invitation_expired"]
    with session_scope() as session:
        kinds = session.scalars(select(Message.kind).where(Message.kind == "invitation_expired"))
        assert len(list(kinds)) == 2


def test_auto_assign_gives_the_first_free_slots(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job()
    dossiers = [build.dossier(job) for _ in range(3)]
    body = {
        "kind": "oral",
        "title": "Oral",
        "response_deadline": "2027-06-01T12:00:00+02:00",
        "booking": {
            "slot_minutes": 30,
            "capacity": 1,
            "auto_assign": True,
            "windows": [{"start": "2027-06-15T09:00:00+02:00", "end": "2027-06-15T10:00:00+02:00"}],
        },
    }
    trial = client.post(f"/api/v1/jobs/{job['id']}/trials", json=body, headers=hr).json()
    build.invite(trial, *dossiers)
    _pass_deadline(trial["id"])

    expire_unanswered(publish=_no_publish)

    assert _states(client, hr, trial["id"]) == ["accepted", "accepted", "expired"]
    slots = client.get(f"/api/v1/trials/{trial['id']}/slots", headers=hr).json()["items"]
    assert [s["booked"] for s in slots] == [1, 1]

    # Their confirmations: the deadline to choose has passed, so no link to change the slot
    # (it would answer 410 at once).
    with session_scope() as session:
        payloads = session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.task_name == SEND_CALENDARS)
        ).all()
    for payload in payloads:
        send_calendars(SendCalendars.model_validate(payload), publish=_no_publish)
    with session_scope() as session:
        confirmations = session.scalars(
            select(Message).where(Message.kind == "booking_confirmation")
        ).all()
        assert len(confirmations) == 2
        for message in confirmations:
            assert "change_link" not in message.context
            _, text, html = render(message.kind, message.language, message.context)
            assert "/c/" not in text and "/c/" not in html


def test_reminders_once_per_sequence(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    invited, attending = build.dossier(job), build.dossier(job)
    soon = (utcnow() + timedelta(hours=30)).isoformat()
    deadline = (utcnow() + timedelta(hours=2)).isoformat()
    trial = build.written_trial(job, starts_at=soon, response_deadline=deadline)
    build.invite(trial, invited, attending)
    with session_scope() as session:
        session.execute(
            update(Participation)
            .where(Participation.dossier_id == uuid.UUID(attending["id"]))
            .values(status="accepted")
        )

    first = send_reminders(publish=_no_publish)
    again = send_reminders(publish=_no_publish)

    assert first == 1, "the response reminder is due (48 h before), the trial one is not (24 h)"
    assert again == 0, "once per SEQUENCE"
    with session_scope() as session:
        kinds = list(session.scalars(select(Message.kind).where(Message.kind.like("%reminder"))))
    assert kinds == ["response_reminder"]
