"""The CV bank slice: submit, list, validate into a dossier, with history and the queued email."""

from typing import Any

import pytest
from sqlalchemy import select

from shared.db import session_scope
from shared.models import Message, OutboxEvent
from shared.outbox import flush_marks


def test_submit_with_inline_candidate(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    body = {
        "kind": "specific",
        "job_id": job["id"],
        "candidate": {
            "first_name": "Jan",
            "last_name": "Peeters",
            "email": "jan@example.be",
            "language": "nl",
        },
        "profile": {"summary": "Juriste, 5 ans d'expérience"},
    }
    response = client.post("/api/v1/applications", json=body, headers=hr)
    assert response.status_code == 201, response.text
    application = response.json()
    assert application["status"] == "submitted"
    assert application["candidate"]["email"] == "jan@example.be"
    assert application["candidate"]["language"] == "nl"
    assert application["dossier_id"] is None
    assert application["created_at"].endswith("Z")


def test_validate_specific_creates_dossier_and_queues_email(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job(title="Juriste")
    application = build.application(job, profile={"summary": "Master en droit"})

    response = client.post(f"/api/v1/applications/{application['id']}/validate", headers=hr)

    assert response.status_code == 200, response.text
    validated = response.json()
    assert validated["status"] == "validated"
    dossier = client.get(f"/api/v1/dossiers/{validated['dossier_id']}", headers=hr).json()
    assert dossier["status"] == "open"
    assert dossier["job"]["title"] == "Juriste"
    assert dossier["candidate"]["id"] == application["candidate"]["id"]
    assert dossier["summary"] == "Master en droit"
    assert dossier["applied_at"] == application["created_at"]
    assert dossier["participations"] == []

    messages = client.get(f"/api/v1/messages?dossier_id={dossier['id']}", headers=hr).json()
    assert [m["kind"] for m in messages["items"]] == ["application_validated"]
    assert messages["items"][0]["idempotency_key"] == f"application_validated:{application['id']}"
    assert messages["items"][0]["to_address"] == application["candidate"]["email"]

    flush_marks()  # the marks of what the API published are written a few ms later
    with session_scope() as session:
        message = session.scalars(select(Message)).one()
        event = session.scalars(select(OutboxEvent)).one()
        assert event.payload == {"items": [str(message.id)]}
        assert event.published_at is not None, "published right after the commit"


def test_dossier_history_tells_the_story(client: Any, build: Any, hr: dict[str, str]) -> None:
    application = build.application()
    validated = client.post(f"/api/v1/applications/{application['id']}/validate", headers=hr)
    dossier_id = validated.json()["dossier_id"]

    history = client.get(f"/api/v1/dossiers/{dossier_id}/history", headers=hr).json()["items"]

    assert [e["action"] for e in history] == [
        "application_submitted",
        "application_validated",
        "email_queued:application_validated",
    ]
    assert history[1]["before"] == {"status": "submitted"}
    assert history[1]["after"]["status"] == "validated"
    assert all(e["actor"] == "hr:hr-tester" for e in history)


def test_validate_spontaneous_keeps_it_in_the_bank(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    candidate = build.candidate()
    body = {"kind": "spontaneous", "candidate_id": candidate["id"]}
    application = client.post("/api/v1/applications", json=body, headers=hr).json()

    validated = client.post(f"/api/v1/applications/{application['id']}/validate", headers=hr)

    assert validated.status_code == 200
    assert validated.json()["status"] == "validated"
    assert validated.json()["dossier_id"] is None


def test_list_filters_and_pages(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    other = build.job()
    for _ in range(3):
        build.application(job)
    build.application(other, candidate=build.candidate(last_name="Vandenberghe"))

    by_job = client.get(
        f"/api/v1/applications?job_id={job['id']}&limit=2&count=true", headers=hr
    ).json()
    assert by_job["total"] == 3
    assert len(by_job["items"]) == 2
    rest = client.get(
        f"/api/v1/applications?job_id={job['id']}&limit=2&cursor={by_job['next_cursor']}",
        headers=hr,
    ).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    seen = {a["id"] for a in by_job["items"] + rest["items"]}
    assert len(seen) == 3

    found = client.get("/api/v1/applications?q=vandenb", headers=hr).json()
    assert [a["job_id"] for a in found["items"]] == [other["id"]]
    validated = client.get("/api/v1/applications?status=validated&count=true", headers=hr).json()
    assert validated == {"items": [], "next_cursor": None, "total": 0}


def test_closed_job_takes_no_application(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job(status="closed")
    candidate = build.candidate()
    body = {"kind": "specific", "job_id": job["id"], "candidate_id": candidate["id"]}
    response = client.post("/api/v1/applications", json=body, headers=hr)
    assert response.status_code == 409
    assert response.json()["state"] == "closed"


def test_one_candidate_per_email_whatever_its_case(client: Any, hr: dict[str, str]) -> None:
    first = {"first_name": "Anna", "last_name": "Peeters", "email": "Anna.Peeters@example.be"}
    created = client.post("/api/v1/candidates", json=first, headers=hr)
    assert created.status_code == 201
    again = client.post(
        "/api/v1/candidates", json=first | {"email": "anna.peeters@EXAMPLE.be"}, headers=hr
    )
    assert again.status_code == 409, again.text
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["candidate_id"] == created.json()["id"]

    inline = client.post(
        "/api/v1/applications",
        json={"kind": "spontaneous", "candidate": first | {"email": "ANNA.peeters@example.be"}},
        headers=hr,
    )
    assert inline.status_code == 409 and inline.json()["candidate_id"] == created.json()["id"]

    other = client.post(
        "/api/v1/candidates", json=first | {"email": "anna@example.be"}, headers=hr
    ).json()
    taken = client.patch(
        f"/api/v1/candidates/{other['id']}", json={"email": "anna.PEETERS@example.be"}, headers=hr
    )
    assert taken.status_code == 409 and taken.json()["candidate_id"] == created.json()["id"]
    own = client.patch(
        f"/api/v1/candidates/{created.json()['id']}",
        json={"email": "anna.peeters@example.be"},
        headers=hr,
    )
    assert own.status_code == 200 and own.json()["email"] == "anna.peeters@example.be"
    listed = client.get("/api/v1/candidates?q=anna.peeters", headers=hr).json()["items"]
    assert len(listed) == 1


def test_one_application_per_candidate_and_job(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    candidate = build.candidate()
    body = {"kind": "specific", "job_id": job["id"], "candidate_id": candidate["id"]}
    first = client.post("/api/v1/applications", json=body, headers=hr)
    assert first.status_code == 201

    second = client.post("/api/v1/applications", json=body, headers=hr)
    assert second.status_code == 409, second.text
    assert second.json()["application_id"] == first.json()["id"]

    client.post(f"/api/v1/applications/{first.json()['id']}/validate", headers=hr)
    after_validation = client.post("/api/v1/applications", json=body, headers=hr)
    assert after_validation.status_code == 409
    dossiers = client.get(f"/api/v1/dossiers?job_id={job['id']}", headers=hr).json()["items"]
    assert len(dossiers) == 1
    elsewhere = client.post(
        "/api/v1/applications", json=body | {"job_id": build.job()["id"]}, headers=hr
    )
    assert elsewhere.status_code == 201, "another job is another application"


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("Muller", ["Müller"]),
        ("müller", ["Müller"]),
        ("MULLER", ["Müller"]),
        ("weiss", ["Weiß"]),
        ("lodz", ["Łódź"]),
        ("jurgen muller", ["Müller"]),
        ("Jürgen", ["Müller"]),
        ("celine", ["Lefèvre"]),
        ("lefevre", ["Lefèvre"]),
        ("zz", []),
    ],
)
def test_search_ignores_case_and_accents(
    client: Any, build: Any, hr: dict[str, str], q: str, found: list[str]
) -> None:
    job = build.job()
    for first, last in (
        ("Jürgen", "Müller"),
        ("Anna", "Weiß"),
        ("Piotr", "Łódź"),
        ("Céline", "Lefèvre"),
    ):
        build.dossier(job, candidate=build.candidate(first_name=first, last_name=last))
    for path in ("/api/v1/candidates", "/api/v1/applications", "/api/v1/dossiers"):
        items = client.get(path, params={"q": q}, headers=hr).json()["items"]
        names = sorted(i.get("last_name") or i["candidate"]["last_name"] for i in items)
        assert names == found, path
