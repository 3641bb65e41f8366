"""The scheduler's sweep brings applications back once their unavailability date passed."""

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from services.scheduler.availability import sweep_unavailability
from shared.db import session_scope
from shared.models import Application, utcnow


def test_due_applications_come_back_once(client: Any, build: Any, hr: dict[str, str]) -> None:
    due, later = build.application(), build.application()
    for application, days in ((due, 1), (later, 30)):
        until = (utcnow() + timedelta(days=days)).isoformat()
        client.post(
            f"/api/v1/applications/{application['id']}/mark-unavailable",
            json={"until": until},
            headers=hr,
        )
    with session_scope() as session:  # a day passes for the first one
        session.execute(
            update(Application)
            .where(Application.id == uuid.UUID(due["id"]))
            .values(unavailable_until=utcnow() - timedelta(minutes=1))
        )

    assert sweep_unavailability() == 1
    assert sweep_unavailability() == 0, "a second beat finds nothing left"

    back = client.get(f"/api/v1/applications/{due['id']}", headers=hr).json()
    assert back["status"] == "submitted" and back["unavailable_until"] is None
    still = client.get(f"/api/v1/applications/{later['id']}", headers=hr).json()
    assert still["status"] == "unavailable"
    history = client.get(f"/api/v1/applications/{due['id']}/history", headers=hr).json()["items"]
    assert history[-1]["action"] == "marked_available"
    assert history[-1]["actor"] == "scheduler"
