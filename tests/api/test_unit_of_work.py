"""The answer comes after the commit: a client never sees success for a change that was lost."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from shared import db
from tests.builders import booking_links


def test_a_failed_commit_is_never_answered_with_success(
    client: Any, build: Any, hr: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    application = build.application()

    def lost(self: Session) -> None:
        raise ConnectionError("the database went away during COMMIT")

    monkeypatch.setattr(Session, "commit", lost)
    response = client.post(f"/api/v1/applications/{application['id']}/validate", headers=hr)
    monkeypatch.undo()

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    after = client.get(f"/api/v1/applications/{application['id']}", headers=hr).json()
    assert after["status"] == "submitted"


def test_bookings_at_once_never_hold_the_pool_while_waiting_for_a_thread(
    client: Any, build: Any, hr: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request's commit does not wait for one of the thread pool's threads while its session
    holds a connection: with more threads than connections, every thread could be waiting for
    a connection held by a commit waiting for a thread. Here 2 threads and 1 connection, as
    500 bookings at once on 40 threads and 15 connections (bench/README.md)."""
    job = build.job()
    windows = [{"start": "2027-06-15T09:00:00+02:00", "end": "2027-06-15T18:00:00+02:00"}]
    booking = {"slot_minutes": 30, "capacity": 8, "windows": windows}
    body = {"kind": "oral", "title": "Entretien", "booking": booking}
    trial = client.post(f"/api/v1/jobs/{job['id']}/trials", json=body, headers=hr).json()
    build.invite(trial, *[build.dossier(job) for _ in range(8)])
    slot = client.get(f"/api/v1/trials/{trial['id']}/slots", headers=hr).json()["items"][0]
    paths = booking_links(trial["id"])

    url = db.get_engine().url.render_as_string(hide_password=False)
    one = create_engine(url, pool_size=1, max_overflow=0, pool_timeout=5)
    monkeypatch.setattr(db, "get_engine", lambda: one)

    async def two_threads() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2

    client.portal.call(two_threads)
    form = {"action": "book_slot", "slot_id": slot["id"]}
    with ThreadPoolExecutor(len(paths)) as pool:
        answers = list(pool.map(lambda path: client.post(path, data=form), paths))
    one.dispose()

    assert [a.status_code for a in answers] == [200] * len(paths)
    taken = client.get(f"/api/v1/trials/{trial['id']}/slots", headers=hr).json()["items"][0]
    assert taken["booked"] == len(paths)
