"""Writes accept an Idempotency-Key: a repeat gets the first answer and writes nothing."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

JOB = {"title": "Gestionnaire de dossiers", "reference": "IDEM-1", "year": 2027}


def _jobs(client: Any, hr: dict[str, str]) -> list[dict[str, Any]]:
    return list(client.get("/api/v1/jobs", headers=hr).json()["items"])


def test_a_repeat_gets_the_first_answer_and_creates_nothing(
    client: Any, hr: dict[str, str]
) -> None:
    keyed = hr | {"Idempotency-Key": "create-job-1"}
    first = client.post("/api/v1/jobs", json=JOB, headers=keyed)
    again = client.post("/api/v1/jobs", json=JOB, headers=keyed)

    assert first.status_code == 201, first.text
    assert again.status_code == first.status_code
    assert again.json() == first.json()
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert [job["id"] for job in _jobs(client, hr)] == [first.json()["id"]]


def test_without_a_key_each_write_is_done(client: Any, hr: dict[str, str]) -> None:
    client.post("/api/v1/jobs", json=JOB, headers=hr)
    client.post("/api/v1/jobs", json=JOB | {"reference": "IDEM-2"}, headers=hr)
    assert len(_jobs(client, hr)) == 2


def test_the_same_key_with_another_request_is_refused(client: Any, hr: dict[str, str]) -> None:
    keyed = hr | {"Idempotency-Key": "create-job-2"}
    client.post("/api/v1/jobs", json=JOB, headers=keyed)
    other = client.post("/api/v1/jobs", json=JOB | {"title": "Autre"}, headers=keyed)

    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["type"] == "urn:recrue:problem:idempotency-key-reused"
    assert len(_jobs(client, hr)) == 1


def test_keys_belong_to_one_api_key(client: Any, hr: dict[str, str], api_key: Any) -> None:
    other_front_end = api_key("hr")
    client.post("/api/v1/jobs", json=JOB, headers=hr | {"Idempotency-Key": "k"})
    second = client.post(
        "/api/v1/jobs",
        json=JOB | {"reference": "IDEM-3"},
        headers=other_front_end | {"Idempotency-Key": "k"},
    )
    assert second.status_code == 201
    assert len(_jobs(client, hr)) == 2


def test_a_refused_write_is_not_remembered(client: Any, hr: dict[str, str]) -> None:
    keyed = hr | {"Idempotency-Key": "create-job-3"}
    refused = client.post("/api/v1/jobs", json={"title": ""}, headers=keyed)
    assert refused.status_code == 422
    # Nothing was written: the same key with a corrected request does the write.
    done = client.post("/api/v1/jobs", json=JOB, headers=keyed)
    assert done.status_code == 201
    assert len(_jobs(client, hr)) == 1


def test_an_invalid_key_is_refused(client: Any, hr: dict[str, str]) -> None:
    response = client.post("/api/v1/jobs", json=JOB, headers=hr | {"Idempotency-Key": "x" * 201})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _jobs(client, hr) == []


def test_simultaneous_repeats_write_once(client: Any, hr: dict[str, str]) -> None:
    keyed = hr | {"Idempotency-Key": "create-job-at-once"}
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(lambda _: client.post("/api/v1/jobs", json=JOB, headers=keyed), range(6))
        )

    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 5
    assert len(_jobs(client, hr)) == 1


def test_a_state_change_is_done_once(client: Any, build: Any, hr: dict[str, str]) -> None:
    application = build.application()
    keyed = hr | {"Idempotency-Key": "validate-1"}
    url = f"/api/v1/applications/{application['id']}/validate"
    first = client.post(url, headers=keyed)
    again = client.post(url, headers=keyed)

    assert first.status_code == 200, first.text
    assert again.status_code == 200 and again.json() == first.json()
    # Without the key, the repeat meets the new state: a 409 that names it.
    unkeyed = client.post(url, headers=hr)
    assert unkeyed.status_code == 409


def test_an_answer_lost_after_the_commit_is_never_redone(
    client: Any, hr: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.api import idempotency

    def database_gone(*_: object) -> None:
        raise ConnectionError("the database went away after the commit")

    # The answer cannot be recorded after the commit (as if the process had stopped there).
    monkeypatch.setattr(idempotency, "_record", database_gone)
    monkeypatch.setattr(idempotency, "ANSWER_WAIT_SECONDS", 0.2)
    keyed = hr | {"Idempotency-Key": "create-job-4"}
    # The write committed: its answer goes out all the same.
    assert client.post("/api/v1/jobs", json=JOB, headers=keyed).status_code == 201

    again = client.post("/api/v1/jobs", json=JOB, headers=keyed)
    assert again.status_code == 409
    assert again.json()["type"] == "urn:recrue:problem:idempotent-answer-lost"
    assert len(_jobs(client, hr)) == 1


def test_a_new_api_key_is_never_stored_nor_replayed(client: Any, api_key: Any) -> None:
    from sqlalchemy import select

    from shared.db import session_scope
    from shared.models import IdempotentRequest

    admin = api_key("admin") | {"Idempotency-Key": "new-key-1"}
    body = {"name": "front-end", "role": "hr"}
    first = client.post("/api/v1/api-keys", json=body, headers=admin)
    assert first.status_code == 201, first.text
    secret = first.json()["key"]

    again = client.post("/api/v1/api-keys", json=body, headers=admin)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["type"] == "urn:recrue:problem:idempotent-answer-not-kept"
    assert secret not in again.text
    with session_scope() as session:
        stored = session.scalars(select(IdempotentRequest)).all()
        assert [row.key for row in stored] == ["new-key-1"]
        assert all(secret not in (row.body or "") for row in stored)
    keys = client.get("/api/v1/api-keys", headers=admin).json()["items"]
    assert [k["name"] for k in keys].count("front-end") == 1, "the repeat created no second key"


def test_every_write_of_the_api_declares_idempotency() -> None:
    """A write route under /api/v1 without `dependencies=[Idempotent]` would silently lose the
    Idempotency-Key: each one declares it (and the OpenAPI documents the header there)."""
    from services.api import idempotency, openapi
    from services.api.main import app

    writes = [
        (method, route)
        for route in openapi._api_routes(app)
        if route.path_format.startswith("/api/v1/")
        for method in sorted(route.methods & idempotency.WRITES)
    ]
    assert len(writes) > 30
    forgotten = [
        f"{method} {route.path_format}"
        for method, route in writes
        if not idempotency.declared(openapi._calls(route))
    ]
    assert forgotten == []
    documented = app.openapi()["paths"]
    for method, route in writes:
        parameters = documented[route.path_format][method.lower()].get("parameters", [])
        assert "Idempotency-Key" in [p["name"] for p in parameters], route.path_format
