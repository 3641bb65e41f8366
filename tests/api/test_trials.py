"""Written trials and invitations through the API."""

import uuid
from typing import Any

from sqlalchemy import select

from shared.db import session_scope
from shared.models import OutboxEvent
from shared.tasks import SEND_CALENDARS


def test_plan_a_written_trial(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    trial = build.written_trial(job, weight="2", max_score="20", pass_score="10")
    assert trial["starts_at"] == "2027-03-28T08:00:00Z"
    assert trial["timezone"] == "Europe/Brussels"
    assert trial["response_deadline"] == "2027-03-20T11:00:00Z"
    listed = client.get(f"/api/v1/jobs/{job['id']}/trials", headers=hr).json()["items"]
    assert [t["id"] for t in listed] == [trial["id"]]


def test_trial_deadline_must_come_first(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    body = {
        "kind": "written",
        "title": "Écrit",
        "starts_at": "2027-03-28T10:00:00+02:00",
        "duration_minutes": 60,
        "response_deadline": "2027-03-29T10:00:00+02:00",
    }
    response = client.post(f"/api/v1/jobs/{job['id']}/trials", json=body, headers=hr)
    assert response.status_code == 422
    assert "response_deadline" in response.text


def test_invite_dossiers(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    first, second = build.dossier(job), build.dossier(job)
    trial = build.written_trial(job)

    answer = build.invite(trial, first, second)

    assert {p["dossier_id"] for p in answer["invited"]} == {first["id"], second["id"]}
    assert all(p["status"] == "invited" and p["sequence"] == 0 for p in answer["invited"])
    participations = client.get(f"/api/v1/trials/{trial['id']}/participations", headers=hr)
    assert len(participations.json()["items"]) == 2
    dossier = client.get(f"/api/v1/dossiers/{first['id']}", headers=hr).json()
    assert dossier["participations"][0]["trial_id"] == trial["id"]
    assert dossier["participations"][0]["starts_at"] == "2027-03-28T08:00:00Z"
    with session_scope() as session:
        [event] = session.scalars(
            select(OutboxEvent).where(OutboxEvent.task_name == SEND_CALENDARS)
        ).all()  # one block for the whole invitation
    assert sorted(event.payload["items"], key=lambda i: i["participation_id"]) == sorted(
        (
            {
                "participation_id": p["id"],
                "sequence": 0,
                "purpose": "invite",
                "previous_starts_at": None,
                "reason": None,
                "changed": None,
                "ending": None,
            }
            for p in answer["invited"]
        ),
        key=lambda i: i["participation_id"],
    )


def test_inviting_again_creates_nothing(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    dossier = build.dossier(job)
    trial = build.written_trial(job)
    build.invite(trial, dossier)

    again = build.invite(trial, dossier)

    assert again == {"invited": [], "already_invited": [dossier["id"]]}


def test_invite_all_eligible(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    dossiers = [build.dossier(job) for _ in range(3)]
    build.dossier()  # another job's dossier is not eligible
    set_aside = build.dossier(job)  # nor one whose application HR marked unavailable
    unavailable = client.post(
        f"/api/v1/applications/{set_aside['application_id']}/mark-unavailable",
        json={"reason": "en congé"},
        headers=hr,
    )
    assert unavailable.status_code == 200, unavailable.text
    trial = build.written_trial(job)

    response = client.post(
        f"/api/v1/trials/{trial['id']}/invitations", json={"all_eligible": True}, headers=hr
    )

    assert response.status_code == 201
    assert {p["dossier_id"] for p in response.json()["invited"]} == {d["id"] for d in dossiers}


def test_invite_refuses_other_jobs_and_unknown_dossiers(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job()
    trial = build.written_trial(job)
    foreign = build.dossier()
    path = f"/api/v1/trials/{trial['id']}/invitations"

    assert client.post(path, json={"dossier_ids": [foreign["id"]]}, headers=hr).status_code == 422
    unknown = client.post(path, json={"dossier_ids": [str(uuid.uuid4())]}, headers=hr)
    assert unknown.status_code == 404
    assert client.post(path, json={}, headers=hr).status_code == 422
    both = {"dossier_ids": [foreign["id"]], "all_eligible": True}
    assert client.post(path, json=both, headers=hr).status_code == 422


def test_times_given_with_an_offset_are_kept_and_echoed_in_utc(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job()
    body = {
        "kind": "oral",
        "title": "Oral",
        "booking": {
            "slot_minutes": 30,
            "windows": [{"start": "2027-06-15T09:00:00+02:00", "end": "2027-06-15T10:00:00+02:00"}],
        },
    }
    trial = client.post(f"/api/v1/jobs/{job['id']}/trials", json=body, headers=hr).json()
    [window] = trial["booking"]["windows"]
    assert window == {"start": "2027-06-15T07:00:00+00:00", "end": "2027-06-15T08:00:00+00:00"}

    dossier = build.dossier(job)
    written = build.written_trial(job)
    [invited] = build.invite(written, dossier)["invited"]
    client.post(
        f"/api/v1/participations/{invited['id']}/postpone",
        json={"starts_at": "2027-04-02T10:00:00+02:00"},
        headers=hr,
    )
    history = client.get(f"/api/v1/dossiers/{dossier['id']}/history", headers=hr).json()["items"]
    [moved] = [e for e in history if e["action"] == "participation_postponed"]
    assert moved["after"]["starts_at"] == "2027-04-02T08:00:00+00:00"


def test_numbers_have_one_representation(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    created = build.written_trial(job, weight="1", max_score="20", pass_score="10.5")
    read = client.get(f"/api/v1/trials/{created['id']}", headers=hr).json()
    for trial in (created, read):
        assert (trial["weight"], trial["max_score"], trial["pass_score"]) == (
            "1.00",
            "20.00",
            "10.50",
        )
    dossier = build.dossier(job)
    [invited] = build.invite(created, dossier)["invited"]
    build.took_place(created)
    recorded = client.post(
        f"/api/v1/participations/{invited['id']}/result",
        json={"present": True, "score": "12.5"},
        headers=hr,
    )
    assert recorded.json()["result"]["score"] == "12.50"
    listed = client.get(f"/api/v1/trials/{created['id']}/participations", headers=hr).json()
    assert listed["items"][0]["result"]["score"] == "12.50"
