"""Bad input gets a 4xx problem+json answer, never a 500."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shared.models import LinkPurpose

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The one shape of every error: a listed type, its title and status, a detail; the
    failing fields of a 422; the state of a 409 refused by a state."""
    from services.api.errors import PROBLEMS

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = dict(response.json())
    assert body["status"] == status
    assert body["type"].startswith("urn:recrue:problem:")
    slug = body["type"].removeprefix("urn:recrue:problem:")
    assert PROBLEMS[slug][:2] == (status, body["title"])
    assert isinstance(body["detail"], str) and len(body["detail"]) > 8
    assert "field" not in body and "loc" not in body
    if status == 422:
        assert body["errors"], body
        for error in body["errors"]:
            assert set(error) == {"field", "message"}, error
            assert error["field"].split(".")[0] in {"body", "query", "path", "header"}
            assert error["message"]
    if slug in ("state-conflict", "slot-full"):
        assert body["state"], body
    return body


def test_no_key_is_401(client: Any) -> None:
    response = client.get("/api/v1/jobs")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_unknown_key_is_401(client: Any) -> None:
    assert_problem(client.get("/api/v1/jobs", headers={"Authorization": "Bearer rk_nope"}), 401)


def test_viewer_cannot_write(client: Any, api_key: Any) -> None:
    viewer = api_key("viewer")
    response = client.post("/api/v1/jobs", json={}, headers=viewer)
    body = assert_problem(response, 403)
    assert "viewer" in body["detail"]
    assert client.get("/api/v1/jobs", headers=viewer).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/jobs/{id}",
        "/api/v1/candidates/{id}",
        "/api/v1/applications/{id}",
        "/api/v1/dossiers/{id}",
        "/api/v1/dossiers/{id}/history",
        "/api/v1/trials/{id}",
        "/api/v1/trials/{id}/participations",
        "/api/v1/jobs/{id}/trials",
    ],
)
def test_unknown_ids_are_404(client: Any, hr: dict[str, str], path: str) -> None:
    body = assert_problem(client.get(path.format(id=uuid.uuid4()), headers=hr), 404)
    assert "not found" in body["detail"]


def test_unknown_id_in_an_action_is_404(client: Any, hr: dict[str, str]) -> None:
    assert_problem(client.post(f"/api/v1/applications/{uuid.uuid4()}/validate", headers=hr), 404)


def test_malformed_id_is_422(client: Any, hr: dict[str, str]) -> None:
    body = assert_problem(client.get("/api/v1/jobs/not-a-uuid", headers=hr), 422)
    assert body["errors"] == [{"field": "path.job_id", "message": body["errors"][0]["message"]}]
    assert "UUID" in body["errors"][0]["message"]
    assert body["detail"].startswith("1 field is invalid: path.job_id: ")


def test_wrong_types_name_the_fields(client: Any, hr: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/jobs", json={"title": "", "reference": 12, "year": "soon"}, headers=hr
    )
    body = assert_problem(response, 422)
    fields = {e["field"] for e in body["errors"]}
    assert {"body.title", "body.reference", "body.year"} <= fields
    assert all(set(e) == {"field", "message"} and e["message"] for e in body["errors"])


def test_body_that_is_not_json_is_422(client: Any, hr: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/jobs", content=b"{not json", headers={**hr, "content-type": "application/json"}
    )
    body = assert_problem(response, 422)
    assert body["type"] == "urn:recrue:problem:validation-error"
    assert body["errors"][0]["field"].startswith("body")
    assert "not valid JSON" in body["errors"][0]["message"]


def test_unknown_fields_are_refused(client: Any, hr: dict[str, str]) -> None:
    body = {"title": "Juriste", "reference": "J-1", "year": 2026, "salary": 3}
    assert_problem(client.post("/api/v1/jobs", json=body, headers=hr), 422)


def test_times_without_offset_are_refused(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    body = {
        "kind": "written",
        "title": "Écrit",
        "starts_at": "2026-03-29T10:00:00",
        "duration_minutes": 60,
    }
    response = client.post(f"/api/v1/jobs/{job['id']}/trials", json=body, headers=hr)
    assert_problem(response, 422)


def test_unknown_time_zone_is_refused(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    body = {
        "kind": "written",
        "title": "Écrit",
        "starts_at": "2027-03-28T10:00:00+02:00",
        "duration_minutes": 60,
        "timezone": "Europe/Atlantis",
    }
    response = client.post(f"/api/v1/jobs/{job['id']}/trials", json=body, headers=hr)
    assert "Atlantis" in assert_problem(response, 422)["detail"] + response.text


def test_second_validation_is_409_naming_the_state(client: Any, build: Any, hr: Any) -> None:
    application = build.application()
    first = client.post(f"/api/v1/applications/{application['id']}/validate", headers=hr)
    assert first.status_code == 200
    second = client.post(f"/api/v1/applications/{application['id']}/validate", headers=hr)
    body = assert_problem(second, 409)
    assert body["state"] == "validated"
    assert "validated" in body["detail"]


def test_duplicate_job_reference_is_409(client: Any, build: Any, hr: dict[str, str]) -> None:
    build.job(reference="DUP-1")
    body = {"title": "Autre", "reference": "DUP-1", "year": 2026}
    assert_problem(client.post("/api/v1/jobs", json=body, headers=hr), 409)


def test_application_needs_exactly_one_candidate(client: Any, build: Any, hr: Any) -> None:
    job = build.job()
    body = {"kind": "specific", "job_id": job["id"]}
    assert_problem(client.post("/api/v1/applications", json=body, headers=hr), 422)


def test_specific_application_needs_a_job(client: Any, build: Any, hr: Any) -> None:
    candidate = build.candidate()
    body = {"kind": "specific", "candidate_id": candidate["id"]}
    assert_problem(client.post("/api/v1/applications", json=body, headers=hr), 422)


def test_application_to_unknown_job_is_404(client: Any, build: Any, hr: Any) -> None:
    candidate = build.candidate()
    body = {"kind": "specific", "job_id": str(uuid.uuid4()), "candidate_id": candidate["id"]}
    assert_problem(client.post("/api/v1/applications", json=body, headers=hr), 404)


def test_bad_cursor_is_422(client: Any, hr: dict[str, str]) -> None:
    assert_problem(client.get("/api/v1/jobs?cursor=%%%", headers=hr), 422)


def test_unknown_route_is_problem_json(client: Any) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404)


def test_a_database_that_does_not_answer_is_503_to_retry(hr: dict[str, str]) -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from services.api.deps import get_session
    from services.api.main import create_app
    from shared import links
    from tests.mailbox import free_port

    signed = links._serializer().dumps({"t": str(uuid.uuid4()), "p": LinkPurpose.BOOK_SLOT})
    nowhere = create_engine(f"postgresql+psycopg://recrue@127.0.0.1:{free_port()}/recrue")

    def unreachable() -> Iterator[Session]:
        with Session(nowhere) as session:
            yield session

    app = create_app()
    app.dependency_overrides[get_session] = unreachable
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/jobs", headers=hr)
        body = assert_problem(response, 503)
        assert body["type"] == "urn:recrue:problem:service-unavailable"
        assert response.headers["retry-after"] == "5"
        # a candidate gets a page, not JSON (tests/api/test_low_severity.py: its language)
        for response in (
            client.get(f"/c/{signed}"),
            client.post(f"/c/{signed}", data={"action": "book_slot", "slot_id": "x"}),
        ):
            assert response.status_code == 503
            assert response.headers["content-type"].startswith("text/html")
            assert response.headers["retry-after"] == "5"


@pytest.mark.parametrize(
    ("resource", "field"),
    [
        ("candidate", "email"),
        ("candidate", "first_name"),
        ("candidate", "language"),
        ("job", "title"),
        ("job", "status"),
        ("application", "profile"),
        ("trial", "location"),
    ],
)
def test_a_null_where_a_field_cannot_be_empty_is_a_422_naming_it(
    client: Any, build: Any, hr: dict[str, str], resource: str, field: str
) -> None:
    job = build.job()
    paths = {
        "candidate": lambda: f"/api/v1/candidates/{build.candidate()['id']}",
        "job": lambda: f"/api/v1/jobs/{job['id']}",
        "application": lambda: f"/api/v1/applications/{build.application(job)['id']}",
        "trial": lambda: f"/api/v1/trials/{build.written_trial(job)['id']}",
    }
    path = paths[resource]()
    before = client.get(path, headers=hr).json()
    answer = client.patch(path, json={field: None}, headers=hr)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in answer.text
    assert client.get(path, headers=hr).json()[field] == before[field], "nothing changed"


def test_the_schema_says_which_fields_may_be_null(client: Any) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    candidate = schemas["CandidateUpdate"]["properties"]
    assert candidate["email"]["type"] == "string" and "default" not in candidate["email"]
    assert {"type": "null"} in candidate["phone"]["anyOf"], "a phone may be removed"
