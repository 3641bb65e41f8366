"""Slot trials through the API: slots cut from the windows, HR moves, capacity refusals."""

from typing import Any

BOOKING = {
    "slot_minutes": 30,
    "capacity": 1,
    "windows": [{"start": "2027-06-15T09:00:00+02:00", "end": "2027-06-15T10:40:00+02:00"}],
}


def _slot_trial(client: Any, build: Any, hr: dict[str, str], job: dict[str, Any]) -> Any:
    body = {"kind": "oral", "title": "Entretien", "booking": BOOKING}
    response = client.post(f"/api/v1/jobs/{job['id']}/trials", json=body, headers=hr)
    assert response.status_code == 201, response.text
    return response.json()


def test_slots_are_cut_from_the_windows(client: Any, build: Any, hr: dict[str, str]) -> None:
    trial = _slot_trial(client, build, hr, build.job())
    assert trial["starts_at"] == "2027-06-15T07:00:00Z"
    assert trial["booking"]["slot_minutes"] == 30
    slots = client.get(f"/api/v1/trials/{trial['id']}/slots", headers=hr).json()["items"]
    assert [(s["starts_at"], s["ends_at"]) for s in slots] == [
        ("2027-06-15T07:00:00Z", "2027-06-15T07:30:00Z"),
        ("2027-06-15T07:30:00Z", "2027-06-15T08:00:00Z"),
        ("2027-06-15T08:00:00Z", "2027-06-15T08:30:00Z"),
    ]


def test_written_trials_take_no_booking(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    body = {"kind": "written", "title": "Écrit", "booking": BOOKING}
    assert client.post(f"/api/v1/jobs/{job['id']}/trials", json=body, headers=hr).status_code == 422


def test_hr_moves_a_candidate_and_full_slots_refuse(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job()
    first, second = build.dossier(job), build.dossier(job)
    trial = _slot_trial(client, build, hr, job)
    build.invite(trial, first, second)
    slots = client.get(f"/api/v1/trials/{trial['id']}/slots", headers=hr).json()["items"]
    participations = {
        p["dossier_id"]: p
        for p in client.get(f"/api/v1/trials/{trial['id']}/participations", headers=hr).json()[
            "items"
        ]
    }
    assert all(p["starts_at"] is None for p in participations.values())

    path = f"/api/v1/participations/{participations[first['id']]['id']}/postpone"
    moved = client.post(path, json={"slot_id": slots[0]["id"]}, headers=hr)
    assert moved.status_code == 200, moved.text
    assert moved.json()["starts_at"] == slots[0]["starts_at"]
    assert moved.json()["sequence"] == 1

    other = f"/api/v1/participations/{participations[second['id']]['id']}/postpone"
    full = client.post(other, json={"slot_id": slots[0]["id"]}, headers=hr)
    assert full.status_code == 409
    assert full.json()["state"] == "full"
    assert (
        client.post(other, json={"starts_at": "2027-06-15T12:00:00+02:00"}, headers=hr).status_code
        == 422
    )


def test_postpone_and_cancel_refusals(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    dossier = build.dossier(job)
    trial = build.written_trial(job)
    build.invite(trial, dossier)
    past = client.post(
        f"/api/v1/trials/{trial['id']}/postpone",
        json={"starts_at": "2020-01-01T10:00:00+01:00"},
        headers=hr,
    )
    assert past.status_code == 422
    cancelled = client.post(f"/api/v1/trials/{trial['id']}/cancel", json={}, headers=hr)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    participation = client.get(f"/api/v1/trials/{trial['id']}/participations", headers=hr).json()
    assert participation["items"][0]["status"] == "cancelled"
    assert participation["items"][0]["sequence"] == 1
    later = client.post(
        f"/api/v1/trials/{trial['id']}/postpone",
        json={"starts_at": "2027-05-01T10:00:00+02:00"},
        headers=hr,
    )
    assert later.status_code == 409 and later.json()["state"] == "cancelled"


def test_answer_page_in_process(client: Any, build: Any, hr: dict[str, str]) -> None:
    from sqlalchemy import select

    from services.scheduler.invitations import answer_links
    from shared import links, loading
    from shared.db import session_scope
    from shared.models import Participation

    job = build.job()
    dossier = build.dossier(job)
    trial = build.written_trial(job)
    build.invite(trial, dossier)
    with session_scope() as session:
        participation = session.scalars(select(Participation).options(*loading.PARTICIPATION)).one()
        tokens: list[dict[str, Any]] = []
        accept = answer_links(tokens, participation)["accept_link"]
        links.insert_all(session, tokens)
    path = accept[accept.index("/c/") :]
    page = client.get(path)
    assert page.status_code == 200, page.text
    # The time as the emails write it: the day in full, no seconds, the zone's name.
    assert "dimanche 28 mars 2027, 10:00 (heure d’été d’Europe centrale)" in page.text
    assert "10:00:00" not in page.text
    done = client.post(path.split("?")[0], data={"action": "answer_invitation", "answer": "accept"})
    assert done.status_code == 200, done.text
