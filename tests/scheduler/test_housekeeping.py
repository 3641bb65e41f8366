"""Beat forgets the answers to Idempotency-Keys after IDEMPOTENCY_KEY_HOURS."""

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from services.scheduler.housekeeping import forget_idempotency_keys
from services.scheduler.worker import app
from shared.db import session_scope
from shared.models import IdempotentRequest, utcnow
from shared.tasks import FORGET_IDEMPOTENCY_KEYS

JOB = {"title": "Archiviste", "reference": "KEEP-1", "year": 2027}


def test_old_keys_are_forgotten_and_then_a_key_is_new(client: Any, hr: dict[str, str]) -> None:
    old, fresh = hr | {"Idempotency-Key": "old"}, hr | {"Idempotency-Key": "fresh"}
    client.post("/api/v1/jobs", json=JOB, headers=old)
    client.post("/api/v1/jobs", json=JOB | {"reference": "KEEP-2"}, headers=fresh)
    with session_scope() as session:  # a day passes for the first key
        session.execute(
            update(IdempotentRequest)
            .where(IdempotentRequest.key == "old")
            .values(created_at=utcnow() - timedelta(hours=24, minutes=1))
        )

    assert forget_idempotency_keys() == 1
    assert forget_idempotency_keys() == 0, "a second beat finds nothing left"

    repeat = client.post("/api/v1/jobs", json=JOB | {"reference": "KEEP-2"}, headers=fresh)
    assert repeat.headers.get("idempotent-replayed") == "true"
    again = client.post("/api/v1/jobs", json=JOB | {"reference": "KEEP-3"}, headers=old)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert len(client.get("/api/v1/jobs", headers=hr).json()["items"]) == 3


def test_beat_runs_it_every_hour() -> None:
    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == FORGET_IDEMPOTENCY_KEYS]
    assert [e["schedule"] for e in entries] == [3600]
