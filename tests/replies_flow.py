"""Participations to answer through the calendar, made through the API as HR would, and the
scheduler's calendar task run by hand on the changes they wrote."""

import uuid
from typing import Any

from sqlalchemy import select

from services.scheduler.invitations import send_calendars
from shared.db import session_scope
from shared.models import OutboxEvent, Participation, Slot
from shared.participations import book
from shared.tasks import SEND_CALENDARS, SendCalendars


def run_calendars() -> None:
    """What the scheduler would do with the calendar changes written so far (and not done):
    build and queue their emails. Their events stay unpublished."""
    with session_scope() as session:
        events = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.task_name == SEND_CALENDARS, OutboxEvent.done_at.is_(None))
            .order_by(OutboxEvent.created_at)
        ).all()
        blocks = [(e.id, SendCalendars.model_validate(e.payload)) for e in events]
    for event_id, block in blocks:
        send_calendars(block, publish=lambda _: None, event_id=event_id)


def participation_of(client: Any, hr: dict[str, str], p: dict[str, Any]) -> dict[str, Any]:
    items = client.get(f"/api/v1/trials/{p['trial_id']}/participations", headers=hr).json()
    return next(dict(item) for item in items["items"] if item["id"] == p["id"])


def invited(
    build: Any, client: Any, hr: dict[str, str], **trial: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A candidate invited to a written trial: (job, dossier, candidate, participation)."""
    job = build.job()
    candidate = build.candidate()
    dossier = build.dossier(job, candidate=candidate)
    written = build.written_trial(job, **trial)
    build.invite(written, dossier)
    items = client.get(f"/api/v1/trials/{written['id']}/participations", headers=hr).json()
    return job, dossier, candidate, dict(items["items"][0])


def accepted_slot(
    build: Any, client: Any, hr: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A candidate who booked an oral trial's slot: (trial, dossier, candidate, participation)."""
    job = build.job()
    candidate = build.candidate()
    dossier = build.dossier(job, candidate=candidate)
    body = {
        "kind": "oral",
        "title": "Oral",
        "response_deadline": "2027-06-01T12:00:00+02:00",
        "booking": {
            "slot_minutes": 30,
            "capacity": 1,
            "windows": [{"start": "2027-06-15T09:00:00+02:00", "end": "2027-06-15T10:00:00+02:00"}],
        },
    }
    response = client.post(f"/api/v1/jobs/{job['id']}/trials", json=body, headers=hr)
    assert response.status_code == 201, response.text
    trial = response.json()
    build.invite(trial, dossier)
    items = client.get(f"/api/v1/trials/{trial['id']}/participations", headers=hr).json()
    participation_id = uuid.UUID(items["items"][0]["id"])
    with session_scope() as session:
        participation = session.get(Participation, participation_id)
        assert participation is not None
        slot = session.query(Slot).filter(Slot.trial_id == participation.trial_id).first()
        assert slot is not None
        book(session=session, participation=participation, slot_id=slot.id)
        participation.status = "accepted"
        participation.sequence += 1  # the booking's confirmation, with its calendar
    items = client.get(f"/api/v1/trials/{trial['id']}/participations", headers=hr).json()
    return trial, dossier, candidate, dict(items["items"][0])
