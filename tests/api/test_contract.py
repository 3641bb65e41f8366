"""The contract front-ends code against: one problem shape for every error (framework errors
included), an OpenAPI that says what each route answers, and CORS for browser front-ends."""

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.test_api_errors import PROBLEM, assert_problem

# --- one problem shape -----------------------------------------------------------------------


def test_an_unknown_route_is_a_not_found_problem(client: Any, hr: dict[str, str]) -> None:
    body = assert_problem(client.get("/api/v1/nothing-here", headers=hr), 404)
    assert body["type"] == "urn:recrue:problem:not-found"
    assert "/api/v1/nothing-here" in body["detail"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/jobs", "GET, POST"),
        ("PUT", "/api/v1/jobs", "GET, POST"),
        ("DELETE", "/api/v1/jobs/{id}", "GET, PATCH"),
        ("GET", "/api/v1/api-keys/{id}/revoke", "POST"),
        ("POST", "/healthz", "GET"),
    ],
)
def test_a_method_the_path_lacks_is_a_405_listing_all_its_methods(
    client: Any, hr: dict[str, str], method: str, path: str, allowed: str
) -> None:
    # Starlette named only the first route of the path (one route per method here), and the
    # problem dropped the header altogether.
    response = client.request(method, path.format(id=uuid.uuid4()), headers=hr)
    body = assert_problem(response, 405)
    assert body["type"] == "urn:recrue:problem:method-not-allowed"
    assert response.headers["allow"] == allowed
    assert allowed in body["detail"]


def test_a_json_route_sent_another_media_type_is_a_415(client: Any, hr: dict[str, str]) -> None:
    headers = {**hr, "content-type": "text/plain"}
    response = client.post("/api/v1/jobs", content=b"title=x", headers=headers)
    body = assert_problem(response, 415)
    assert body["type"] == "urn:recrue:problem:unsupported-media-type"
    assert "application/json" in body["detail"]
    assert client.get("/api/v1/jobs?count=true", headers=hr).json()["total"] == 0


def test_an_upload_sent_as_json_is_a_415(client: Any, build: Any, hr: dict[str, str]) -> None:
    application = build.application()
    path = f"/api/v1/applications/{application['id']}/cv"
    body = assert_problem(client.post(path, json={"file": "x"}, headers=hr), 415)
    assert "multipart/form-data" in body["detail"]


def test_an_invalid_json_body_names_the_body(client: Any, hr: dict[str, str]) -> None:
    headers = {**hr, "content-type": "application/json"}
    body = assert_problem(client.post("/api/v1/jobs", content=b"{", headers=headers), 422)
    assert body["errors"][0]["field"].startswith("body")
    assert "not valid JSON" in body["detail"]


def test_a_rule_on_the_whole_body_has_a_sentence_not_a_blank(
    client: Any, hr: dict[str, str]
) -> None:
    # Was `"detail": "invalid "`: the rule is on the body, not on one of its fields.
    path = f"/api/v1/participations/{uuid.uuid4()}/postpone"
    body = assert_problem(client.post(path, json={}, headers=hr), 422)
    assert body["errors"] == [{"field": "body", "message": "give either starts_at or slot_id"}]
    assert body["detail"] == "1 field is invalid: body: give either starts_at or slot_id"


def test_a_domain_refusal_of_one_field_uses_the_same_list(client: Any, hr: dict[str, str]) -> None:
    # Was `"field": "cursor"` beside the detail: now the same `errors` as any 422.
    body = assert_problem(client.get("/api/v1/jobs?cursor=nope", headers=hr), 422)
    assert body["errors"] == [
        {"field": "query.cursor", "message": "cursor is not one this API gave"}
    ]


def test_a_duplicate_and_a_state_refusal_are_two_kinds_of_409(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    first = build.candidate(email="same@example.org")
    again = {"first_name": "A", "last_name": "B", "email": "SAME@example.org"}
    duplicate = assert_problem(client.post("/api/v1/candidates", json=again, headers=hr), 409)
    assert duplicate["type"] == "urn:recrue:problem:already-exists"
    assert duplicate["candidate_id"] == first["id"]
    application = build.application()
    path = f"/api/v1/applications/{application['id']}/validate"
    assert client.post(path, headers=hr).status_code == 200
    refused = assert_problem(client.post(path, headers=hr), 409)
    assert refused["type"] == "urn:recrue:problem:state-conflict"
    assert refused["state"] == "validated"


def test_idempotency_problems_name_the_header(client: Any, hr: dict[str, str]) -> None:
    job = {"title": "T", "reference": "R-1", "year": 2026}
    bad = client.post(
        "/api/v1/jobs", json=job, headers={**hr, "Idempotency-Key": "é".encode("latin-1")}
    )
    assert assert_problem(bad, 422)["errors"][0]["field"] == "header.Idempotency-Key"
    keyed = {**hr, "Idempotency-Key": "k-1"}
    assert client.post("/api/v1/jobs", json=job, headers=keyed).status_code == 201
    other = client.post("/api/v1/jobs", json={**job, "reference": "R-2"}, headers=keyed)
    body = assert_problem(other, 422)
    assert body["type"] == "urn:recrue:problem:idempotency-key-reused"
    assert body["errors"][0]["field"] == "header.Idempotency-Key"


def test_a_score_as_text_must_be_a_decimal(client: Any, build: Any, hr: dict[str, str]) -> None:
    # The OpenAPI says: a number with two decimals, or such a number as text; "", "1e3" and
    # true were accepted by the schema (any string) and refused or misread by the server.
    path = f"/api/v1/dossiers/{uuid.uuid4()}/global-score"
    # The text of a bounded score is bounded in the schema too ("628154829.1" was valid there).
    pattern = client.get("/openapi.json").json()["components"]["schemas"]["GlobalScoreInput"][
        "properties"
    ]["score"]["anyOf"][1]["pattern"]
    assert re.search(pattern, "100.00") and not re.search(pattern, "628154829.1")
    for score in ("", "1e1", "+5", True, "100.5"):
        body = assert_problem(
            client.post(path, json={"score": score, "reason": "r"}, headers=hr), 422
        )
        assert body["errors"][0]["field"] == "body.score"


# --- the OpenAPI -----------------------------------------------------------------------------


@pytest.fixture
def openapi(client: Any) -> dict[str, Any]:
    return dict(client.get("/openapi.json").json())


def _operations(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            yield path, method.upper(), operation


def test_every_hr_route_declares_the_bearer_scheme(openapi: dict[str, Any]) -> None:
    scheme = openapi["components"]["securitySchemes"]["HTTPBearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for told in ("recrue create-api-key", "OIDC_ISSUER", "two dots", "On-Behalf-Of"):
        assert told in scheme["description"], "keys, tokens and how they are told apart"
    for path, method, operation in _operations(openapi):
        if path.startswith("/api/v1/"):
            assert operation["security"] == [{"HTTPBearer": []}], (method, path)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
        else:
            assert "security" not in operation, (method, path)
    assert {"/healthz", "/readyz", "/metrics", "/c/{signed}"} <= set(openapi["paths"])


def test_every_write_declares_the_idempotency_key(openapi: dict[str, Any]) -> None:
    writes = 0
    for path, method, operation in _operations(openapi):
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        keys = [p for p in headers if p["name"].lower() == "idempotency-key"]
        if path.startswith("/api/v1/") and method in {"POST", "PUT", "PATCH", "DELETE"}:
            writes += 1
            assert len(keys) == 1, (method, path)
            schema = keys[0]["schema"]
            assert (schema["minLength"], schema["maxLength"]) == (1, 200)
            assert schema["pattern"]
        else:
            assert not keys, (method, path)
    assert writes > 30


def test_every_error_is_documented_as_problem_json(openapi: dict[str, Any]) -> None:
    assert {"Problem", "ValidationProblem", "FieldError"} <= set(openapi["components"]["schemas"])
    assert "HTTPValidationError" not in openapi["components"]["schemas"]
    for path, method, operation in _operations(openapi):
        for status, answer in operation["responses"].items():
            if int(status) < 400:
                continue
            content = set(answer["content"])
            if path.startswith("/c/") and status != "422" and status not in ("413", "415"):
                assert content == {"text/html"}, (method, path, status)
            else:
                assert content == {PROBLEM}, (method, path, status)


def test_each_route_documents_what_it_can_answer(openapi: dict[str, Any]) -> None:
    def statuses(method: str, path: str) -> set[str]:
        return set(openapi["paths"][path][method.lower()]["responses"])

    # A role check: 403; an id in the path: 404; a body: 413, 415; a write: 409.
    # 400: a malformed multipart body was answered 400 and documented nowhere.
    assert statuses("POST", "/api/v1/applications/{application_id}/cv") == {
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "415",
        "422",
        "503",
    }
    assert statuses("GET", "/api/v1/jobs") == {"200", "401", "403", "422", "503"}
    assert "403" in statuses("POST", "/api/v1/participations/{participation_id}/result")
    assert "404" in statuses("POST", "/api/v1/applications")
    assert statuses("GET", "/healthz") == {"200", "422"}
    assert statuses("GET", "/readyz") == {"200", "422", "503"}


def test_answers_other_than_json_have_their_media_type(openapi: dict[str, Any]) -> None:
    def content(method: str, path: str, status: str = "200") -> set[str]:
        return set(openapi["paths"][path][method.lower()]["responses"][status]["content"])

    assert content("GET", "/api/v1/jobs/{job_id}/shortlist/report") == {
        "text/html",
        "application/pdf",
    }
    assert "application/pdf" in content("GET", "/api/v1/applications/{application_id}/cv")
    assert "application/pdf" in content("GET", "/api/v1/attachments/{file_id}")
    assert content("GET", "/metrics") == {"text/plain; version=0.0.4"}
    assert content("GET", "/c/{signed}") == {"text/html"}
    assert content("GET", "/c/{signed}", "404") == {"text/html"}
    assert content("GET", "/api/v1/email-previews/{kind}") == {"application/json", "text/html"}


def test_cross_field_rules_are_in_the_schemas(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    assert len(schemas["ParticipationPostponement"]["oneOf"]) == 2
    assert len(schemas["InvitationRequest"]["oneOf"]) == 2
    assert len(schemas["FreeMessage"]["oneOf"]) == 2
    assert len(schemas["ResultInput"]["oneOf"]) == 2
    assert "anyOf" in schemas["GlobalScoreInput"]
    assert len(schemas["ApplicationCreate"]["allOf"]) == 2
    number = schemas["GlobalScoreInput"]["properties"]["score"]["anyOf"][0]
    assert number == {"type": "number", "multipleOf": 0.01, "minimum": 0, "maximum": 100}


def test_metrics_say_their_text_format(client: Any) -> None:
    response = client.get("/metrics")
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"


def test_a_random_candidate_link_is_a_404_page(client: Any) -> None:
    response = client.get("/c/not-a-link")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


# --- CORS ------------------------------------------------------------------------------------

ORIGIN = "https://hr.example.org"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
}


@pytest.fixture
def cors_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from services.api.main import create_app
    from shared.settings import get_settings

    monkeypatch.setenv("CORS_ORIGINS", f"{ORIGIN}, https://other.example.org/")
    monkeypatch.setenv("MAX_BODY_KB", "1")
    get_settings.cache_clear()
    try:
        with TestClient(create_app(), raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_a_preflight_from_an_allowed_origin_gets_the_headers(cors_client: Any) -> None:
    response = cors_client.options("/api/v1/jobs", headers=PREFLIGHT)  # no key: before auth
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= {
        h.strip() for h in allowed.split(",")
    }
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-max-age"] == "600"


def test_a_preflight_from_another_origin_gets_none(cors_client: Any) -> None:
    response = cors_client.options(
        "/api/v1/jobs", headers={**PREFLIGHT, "Origin": "https://evil.example.com"}
    )
    assert "access-control-allow-origin" not in response.headers


def test_errors_carry_the_cors_headers_too(cors_client: Any) -> None:
    unauthorized = cors_client.get("/api/v1/jobs", headers={"Origin": ORIGIN})
    assert unauthorized.status_code == 401
    assert unauthorized.headers["access-control-allow-origin"] == ORIGIN
    assert "idempotent-replayed" in unauthorized.headers["access-control-expose-headers"].lower()
    too_large = cors_client.post("/api/v1/jobs", content=b"x" * 4096, headers={"Origin": ORIGIN})
    assert too_large.status_code == 413
    assert too_large.headers["access-control-allow-origin"] == ORIGIN


def test_by_default_no_origin_is_allowed(client: Any) -> None:
    response = client.options("/api/v1/jobs", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in response.headers
    plain = client.get("/api/v1/jobs", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in plain.headers


def test_a_time_given_as_a_number_is_refused(client: Any, hr: dict[str, str]) -> None:
    # The schema says ISO 8601 text; 0 was read as 1970-01-01 and the job created.
    job = {"title": "T", "reference": "R", "year": 2026, "opens_at": 0}
    body = assert_problem(client.post("/api/v1/jobs", json=job, headers=hr), 422)
    assert body["errors"][0]["field"] == "body.opens_at"
    assert client.get("/api/v1/jobs?count=true", headers=hr).json()["total"] == 0


def test_the_schemas_say_what_texts_the_server_refuses(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    reason = schemas["Rejection"]["properties"]["reason"]["pattern"]  # stripped, then >= 1
    assert re.search(reason, " x ") and not re.search(reason, "\u000b \u3000")
    assert not re.search(reason, "a\u0000b")
    email = schemas["CandidateCreate"]["properties"]["email"]["not"]["pattern"]
    assert re.search(email, "ann@hr.test") and re.search(email, "ann@LOCALHOST")
    assert not re.search(email, "ann@example.org")
