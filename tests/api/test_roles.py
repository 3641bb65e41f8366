"""Who may do what: every route against every role, and examiners only on their trials."""

import uuid
from typing import Any

import pytest

from tests.builders import examiner_id

ROLES = ["admin", "hr", "examiner", "viewer"]
WRITE = {"admin", "hr"}
READ = {"admin", "hr", "viewer"}
DOSSIER_READ = {"admin", "hr", "viewer", "examiner"}
HR_ONLY = {"admin", "hr"}


@pytest.fixture
def world(client: Any, build: Any, api_key: Any) -> dict[str, Any]:
    """A job, a dossier invited to a trial, and a key per role (the examiner on that trial)."""
    keys = {role: api_key(role, name=f"{role}-matrix") for role in ROLES}
    job = build.job()
    dossier = build.dossier(job)
    trial = build.written_trial(job, examiner_ids=[examiner_id("examiner-matrix")])
    build.invite(trial, dossier)
    return {
        "job": job,
        "dossier": dossier,
        "application_id": dossier["application_id"],
        "trial": trial,
        "keys": keys,
    }


def routes(w: dict[str, Any]) -> list[tuple[str, str, Any, set[str]]]:
    job, dossier, trial = w["job"]["id"], w["dossier"]["id"], w["trial"]["id"]
    application = w["application_id"]
    new_job = {"title": "T", "reference": f"R-{uuid.uuid4()}", "year": 2026}
    return [
        ("GET", "/api/v1/api-keys", None, {"admin"}),
        ("POST", "/api/v1/api-keys", {"name": "x", "role": "viewer"}, {"admin"}),
        ("POST", "/api/v1/jobs", new_job, WRITE),
        ("GET", "/api/v1/jobs", None, READ),
        ("GET", f"/api/v1/jobs/{job}", None, READ),
        ("PATCH", f"/api/v1/jobs/{job}", {"department": "RH"}, WRITE),
        ("GET", "/api/v1/candidates", None, READ),
        ("GET", "/api/v1/applications", None, READ),
        ("GET", f"/api/v1/applications/{application}", None, READ),
        ("GET", f"/api/v1/applications/{application}/history", None, READ),
        ("PATCH", f"/api/v1/applications/{application}", {"cover_letter": "x"}, WRITE),
        ("POST", f"/api/v1/applications/{application}/notes", {"text": "n"}, HR_ONLY),
        ("GET", f"/api/v1/applications/{application}/notes", None, HR_ONLY),
        ("GET", f"/api/v1/applications/{application}/cv", None, HR_ONLY),
        ("GET", "/api/v1/dossiers", None, DOSSIER_READ),
        ("GET", "/api/v1/dossiers/summary", None, DOSSIER_READ),
        ("GET", f"/api/v1/dossiers/{dossier}", None, DOSSIER_READ),
        ("GET", f"/api/v1/dossiers/{dossier}/history", None, DOSSIER_READ),
        ("POST", f"/api/v1/dossiers/{dossier}/notes", {"text": "n"}, HR_ONLY),
        ("GET", f"/api/v1/dossiers/{dossier}/notes", None, HR_ONLY),
        ("GET", f"/api/v1/dossiers/{dossier}/attachments", None, HR_ONLY),
        ("GET", f"/api/v1/messages?dossier_id={dossier}", None, READ),
        (
            "POST",
            "/api/v1/messages",
            {"dossier_ids": [dossier], "subject": "s", "body": "b"},
            WRITE,
        ),
        ("GET", f"/api/v1/jobs/{job}/trials", None, READ),
        ("GET", f"/api/v1/trials/{trial}", None, DOSSIER_READ),  # the examiner's own trial
        ("GET", f"/api/v1/trials/{trial}/participations", None, DOSSIER_READ),
        ("PUT", f"/api/v1/trials/{trial}/examiners", {"examiner_ids": []}, WRITE),
        ("POST", f"/api/v1/trials/{trial}/invitations", {"dossier_ids": [dossier]}, WRITE),
        ("POST", f"/api/v1/dossiers/{dossier}/withdraw", {}, WRITE),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client: Any, world: dict[str, Any], role: str) -> None:
    headers = world["keys"][role]
    for method, path, body, allowed in routes(world):
        response = client.request(method, path, json=body, headers=headers)
        if role in allowed:
            assert response.status_code < 400 or response.status_code == 404, (
                f"{role} {method} {path}: {response.status_code} {response.text}"
            )
        else:
            assert response.status_code == 403, f"{role} {method} {path}: {response.status_code}"
            assert response.headers["content-type"].startswith("application/problem+json")


def test_examiner_sees_only_dossiers_of_assigned_trials(
    client: Any, build: Any, hr: dict[str, str], api_key: Any
) -> None:
    examiner = api_key("examiner", name="jury-1")
    key_id = examiner_id("jury-1")
    job = build.job()
    mine, other = build.dossier(job), build.dossier(job)
    trial = build.written_trial(job, examiner_ids=[key_id])
    assert trial["examiner_ids"] == [key_id]
    build.invite(trial, mine)

    assert client.get(f"/api/v1/dossiers/{mine['id']}", headers=examiner).status_code == 200
    assert client.get(f"/api/v1/dossiers/{other['id']}", headers=examiner).status_code == 403
    listed = client.get("/api/v1/dossiers", headers=examiner).json()["items"]
    assert [d["id"] for d in listed] == [mine["id"]]
    summary = client.get("/api/v1/dossiers/summary", headers=examiner).json()["items"]
    assert summary[0]["total"] == 1

    # They see the trial they grade and its participants, and no other trial.
    assert client.get(f"/api/v1/trials/{trial['id']}", headers=examiner).status_code == 200
    participants = client.get(f"/api/v1/trials/{trial['id']}/participations", headers=examiner)
    assert participants.status_code == 200
    assert [p["dossier_id"] for p in participants.json()["items"]] == [mine["id"]]
    another = build.written_trial(job)
    assert client.get(f"/api/v1/trials/{another['id']}", headers=examiner).status_code == 403
    others = client.get(f"/api/v1/trials/{another['id']}/participations", headers=examiner)
    assert others.status_code == 403


def test_only_active_examiners_can_be_assigned(
    client: Any, build: Any, hr: dict[str, str], api_key: Any
) -> None:
    admin = api_key("admin")
    viewer = _person(client, admin, "board", ["viewer"])
    gone = _person(client, admin, "retired", ["examiner"])
    assert client.patch(f"/api/v1/people/{gone}", json={"active": False}, headers=admin).is_success
    trial = build.written_trial(build.job())
    for wrong in (str(uuid.uuid4()), viewer, gone):
        response = client.put(
            f"/api/v1/trials/{trial['id']}/examiners", json={"examiner_ids": [wrong]}, headers=hr
        )
        assert response.status_code == 422
        assert response.json()["examiner_ids"] == [wrong]


def _person(client: Any, admin: dict[str, str], name: str, roles: list[str]) -> str:
    body = {"name": name, "email": f"{name}@example.org", "roles": roles}
    created = client.post("/api/v1/people", json=body, headers=admin)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_admin_manages_keys(client: Any, api_key: Any) -> None:
    admin = api_key("admin")
    not_a_person = client.post(
        "/api/v1/api-keys", json={"name": "jury", "role": "examiner"}, headers=admin
    )
    assert not_a_person.status_code == 422, "an examiner's key is a person's own"
    assert not_a_person.json()["errors"][0]["field"] == "body.person_id"
    jury = _person(client, admin, "jury", ["examiner"])
    created = client.post(
        "/api/v1/api-keys",
        json={"name": "jury", "role": "examiner", "person_id": jury},
        headers=admin,
    )
    assert created.status_code == 201
    assert created.json()["person_id"] == jury
    key = created.json()["key"]
    assert key.startswith("rk_")
    listed = client.get("/api/v1/api-keys", headers=admin).json()["items"]
    assert "jury" in [k["name"] for k in listed]
    assert key not in str(listed), "a key is shown once, never listed"
    as_examiner = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/dossiers", headers=as_examiner).status_code == 200

    revoked = client.post(f"/api/v1/api-keys/{created.json()['id']}/revoke", headers=admin)
    assert revoked.json()["revoked_at"] is not None
    assert client.get("/api/v1/dossiers", headers=as_examiner).status_code == 401
    bad_role = client.post("/api/v1/api-keys", json={"name": "x", "role": "boss"}, headers=admin)
    assert bad_role.status_code == 422


def test_examiners_are_updated_by_difference(client: Any, build: Any, api_key: Any) -> None:
    hr = api_key("hr")
    admin = api_key("admin")
    ids = []
    for name in ("jury-1", "jury-2"):
        ids.append(_person(client, admin, name, ["examiner"]))
    trial = build.written_trial(build.job(), examiner_ids=[ids[0]])

    path = f"/api/v1/trials/{trial['id']}/examiners"
    kept_and_added = client.put(path, json={"examiner_ids": [ids[0], ids[1], ids[0]]}, headers=hr)
    assert kept_and_added.status_code == 200, kept_and_added.text
    assert kept_and_added.json()["examiner_ids"] == [ids[0], ids[1]]
    removed = client.put(path, json={"examiner_ids": [ids[1]]}, headers=hr)
    assert removed.status_code == 200 and removed.json()["examiner_ids"] == [ids[1]]
    assert client.get(f"/api/v1/trials/{trial['id']}", headers=hr).json()["examiner_ids"] == [
        ids[1]
    ]
