"""Findings of the security audit's low-severity part (issue 12): each through HTTP or the
process, each a 4xx problem+json rather than a 500 or a leak."""

import base64
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.models import LinkPurpose
from tests.api.test_api_errors import assert_problem


def test_database_errors_never_carry_sql_parameters() -> None:
    """SQL parameters are personal data: the text of a database error (what every log prints)
    names the statement, never the values."""
    from shared.db import get_engine

    email = "leak.me@example.org"
    with pytest.raises(DBAPIError) as caught, get_engine().begin() as connection:
        # refused by both databases, whose own message does not quote the value
        connection.execute(
            text("SELECT no_such_column FROM candidates WHERE email = :e"), {"e": email}
        )
    message = str(caught.value)
    assert "no_such_column" in message
    assert email not in message
    assert "hidden" in message


@pytest.fixture
def wildcard_people(build: Any) -> dict[str, Any]:
    """Applications of candidates whose names hold LIKE's wildcards, and of one who has none."""
    job = build.job(title="Juriste 100% télétravail")
    other_job = build.job(title="Juriste 1000 heures")
    names = {"percent": "Cent%Pour", "underscore": "Sous_Tiret", "slash": "Barre/Oblique"}
    people = {
        key: build.dossier(job, candidate=build.candidate(last_name=name))
        for key, name in names.items()
    }
    people["plain"] = build.dossier(other_job, candidate=build.candidate(last_name="Simple"))
    return people


@pytest.mark.parametrize(
    ("q", "expected"),
    [("%", {"percent"}), ("_", {"underscore"}), ("/", {"slash"}), ("s_t", {"underscore"})],
)
def test_q_matches_wildcards_as_plain_characters(
    client: Any, hr: dict[str, str], wildcard_people: dict[str, Any], q: str, expected: set[str]
) -> None:
    names = {key: d["candidate"]["last_name"] for key, d in wildcard_people.items()}
    by_name = {name: key for key, name in names.items()}
    for path in ("/api/v1/applications", "/api/v1/candidates"):
        response = client.get(path, params={"q": q}, headers=hr)
        assert response.status_code == 200, response.text
        found = {
            by_name[(item.get("candidate") or item)["last_name"]]
            for item in response.json()["items"]
        }
        assert found == expected, (path, q)


def test_dossier_q_matches_wildcards_in_job_titles_as_plain_characters(
    client: Any, hr: dict[str, str], wildcard_people: dict[str, Any]
) -> None:
    response = client.get("/api/v1/dossiers", params={"q": "100%"}, headers=hr)
    assert response.status_code == 200, response.text
    # "100%" is in the first job's title; as a wildcard it would match "1000 heures" too
    found = {d["candidate"]["last_name"] for d in response.json()["items"]}
    assert found == {"Cent%Pour", "Sous_Tiret", "Barre/Oblique"}


def test_a_cursor_this_api_did_not_give_is_a_422(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    """A cursor carries the last row's sort values, signed and bound to its list: an offset
    (the old cursors), a forged or altered one, or another list's, is refused, not run."""
    for _ in range(2):
        build.job()
    jobs_cursor = client.get("/api/v1/jobs?limit=1", headers=hr).json()["next_cursor"]
    assert jobs_cursor
    payload, signature = jobs_cursor.rsplit(".", 1)
    forged = [
        base64.urlsafe_b64encode(str(2**63).encode()).decode(),  # an offset, beyond BIGINT
        base64.urlsafe_b64encode(b"50").decode(),
        f"{payload}.{signature[::-1]}",
        f"{payload[:-2]}AA.{signature}",
    ]
    for path in ("/api/v1/applications", "/api/v1/dossiers", "/api/v1/jobs", "/api/v1/notices"):
        for cursor in forged:
            response = client.get(path, params={"cursor": cursor}, headers=hr)
            body = assert_problem(response, 422)
            assert "cursor" in body["detail"]
    for path in ("/api/v1/applications", "/api/v1/candidates", "/api/v1/messages"):
        response = client.get(path, params={"cursor": jobs_cursor}, headers=hr)
        assert "cursor" in assert_problem(response, 422)["detail"], path
    assert client.get("/api/v1/jobs", params={"cursor": jobs_cursor}, headers=hr).status_code == 200


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/notices", "after_id"),
        ("/api/v1/jobs", "year"),
        ("/api/v1/dossiers", "year"),
        ("/api/v1/dossiers/summary", "year"),
        ("/api/v1/stats", "year"),
    ],
)
@pytest.mark.parametrize("value", [2**63, 10**30, -(2**64)])
def test_integer_query_parameters_beyond_the_columns_are_a_422(
    client: Any, hr: dict[str, str], path: str, name: str, value: int
) -> None:
    body = assert_problem(client.get(path, params={name: value}, headers=hr), 422)
    assert name in body["detail"]


def _errors_at(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body["errors"]}


def test_a_nul_in_a_body_field_is_a_422_naming_it(client: Any, hr: dict[str, str]) -> None:
    candidate = {"first_name": "Éli\x00se", "last_name": "D", "email": "e@example.org"}
    body = assert_problem(client.post("/api/v1/candidates", json=candidate, headers=hr), 422)
    assert _errors_at(body) == {"body.first_name"}
    assert "NUL" in body["errors"][0]["message"]
    assert client.get("/api/v1/candidates?count=true", headers=hr).json()["total"] == 0


def test_a_nul_in_a_nested_field_is_a_422_naming_it(client: Any, hr: dict[str, str]) -> None:
    job = client.post(
        "/api/v1/jobs", json={"title": "T", "reference": "R", "year": 2026}, headers=hr
    ).json()
    inline = {"first_name": "A", "last_name": "B\x00", "email": "ab@example.org"}
    application = {"kind": "specific", "job_id": job["id"], "candidate": inline}
    body = assert_problem(client.post("/api/v1/applications", json=application, headers=hr), 422)
    assert _errors_at(body) == {"body.candidate"}
    assert "last_name" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "profile",
    [{"skills": ["a", "b\x00"]}, {"ke\x00y": 1}, {"a": {"b": {"c": "\x00"}}}],
)
def test_a_nul_anywhere_in_the_profile_is_a_422(
    client: Any, hr: dict[str, str], build: Any, profile: dict[str, Any]
) -> None:
    application = build.application()
    path = f"/api/v1/applications/{application['id']}"
    body = assert_problem(client.patch(path, json={"profile": profile}, headers=hr), 422)
    assert _errors_at(body) == {"body.profile"}
    assert client.get(path, headers=hr).json()["profile"] == application["profile"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/applications", "q"),
        ("/api/v1/candidates", "q"),
        ("/api/v1/dossiers", "q"),
        ("/api/v1/dossiers", "campaign"),
        ("/api/v1/jobs", "campaign"),
        ("/api/v1/stats", "campaign"),
        ("/api/v1/applications", "cursor"),
    ],
)
def test_a_nul_in_a_query_parameter_is_a_422_naming_it(
    client: Any, hr: dict[str, str], path: str, name: str
) -> None:
    body = assert_problem(client.get(path, params={name: "a\x00b"}, headers=hr), 422)
    assert body["detail"] == f"1 field is invalid: query.{name}: must not contain a NUL character"
    assert _errors_at(body) == {f"query.{name}"}


def test_a_nul_in_a_candidate_page_form_is_a_422(client: Any, hr: dict[str, str]) -> None:
    response = client.post("/c/anything", data={"action": "x", "cover_letter": "a\x00"})
    body = assert_problem(response, 422)
    assert _errors_at(body) == {"body.cover_letter"}


@pytest.mark.parametrize("depth", [40, 300, 900])
@pytest.mark.parametrize("bracket", ["[", '{"a":'])
def test_a_deeply_nested_body_is_a_422_and_writes_nothing(
    client: Any, hr: dict[str, str], build: Any, depth: int, bracket: str
) -> None:
    application = build.application()
    closing = "]" if bracket == "[" else "}"
    profile = '{"a": ' + bracket * depth + "1" + closing * depth + "}"
    path = f"/api/v1/applications/{application['id']}"
    for method, url, prefix in (
        ("PATCH", path, ""),
        ("POST", "/api/v1/applications", f'"kind": "spontaneous", "candidate": {_inline()}, '),
    ):
        content = "{" + prefix + '"profile": ' + profile + "}"
        headers = {**hr, "content-type": "application/json"}
        response = client.request(method, url, content=content, headers=headers)
        body = assert_problem(response, 422)
        assert _errors_at(body) == {"body.profile"}
    assert client.get(path, headers=hr).json()["profile"] == application["profile"]
    assert client.get("/api/v1/applications?count=true", headers=hr).json()["total"] == 1


def test_a_body_too_deep_to_parse_is_a_400(client: Any, hr: dict[str, str], build: Any) -> None:
    application = build.application()
    content = '{"profile": ' + "[" * 100_000 + "]" * 100_000 + "}"
    headers = {**hr, "content-type": "application/json"}
    path = f"/api/v1/applications/{application['id']}"
    assert_problem(client.patch(path, content=content, headers=headers), 400)


def _inline() -> str:
    return '{"first_name": "A", "last_name": "B", "email": "deep@example.org"}'


def test_the_profile_is_bounded(client: Any, hr: dict[str, str], build: Any) -> None:
    application = build.application()
    path = f"/api/v1/applications/{application['id']}"
    huge = {"summary": "x" * 70_000}
    body = assert_problem(client.patch(path, json={"profile": huge}, headers=hr), 422)
    assert _errors_at(body) == {"body.profile"}
    big = {"summary": "x" * 60_000, "skills": ["droit"] * 100, "levels": {"a": {"b": [1]}}}
    assert client.patch(path, json={"profile": big}, headers=hr).status_code == 200


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("cv\u202efdp.exe", "cvfdp.exe"),  # shown as "cvexe.pdf" with the override
        ("C:\\Users\\elise\\cv.pdf", "cv.pdf"),
        ("\u2067cv\u2069\u200b.pdf", "cv.pdf"),
        ("cv\u061c\u200e\u200f\u2028.pdf", "cv.pdf"),
        ("cv\x07\x1b[31m.pdf", "cv[31m.pdf"),
        ("..\\..", "file"),
        ("CV Élise Dupont.pdf", "CV Élise Dupont.pdf"),
    ],
)
def test_upload_names_lose_bidi_controls_and_backslash_paths(
    client: Any, hr: dict[str, str], build: Any, sent: str, kept: str
) -> None:
    application = build.application()
    path = f"/api/v1/applications/{application['id']}/cv"
    # the multipart body as a browser could send it, the name in raw UTF-8
    boundary = "recrue-boundary"
    content = (
        f"--{boundary}\r\n".encode()
        + f'Content-Disposition: form-data; name="file"; filename="{sent}"\r\n'.encode()
        + b"Content-Type: application/pdf\r\n\r\n"
        + PDF
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {**hr, "content-type": f"multipart/form-data; boundary={boundary}"}
    uploaded = client.post(path, content=content, headers=headers)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["filename"] == kept
    served = client.get(path, headers=hr).headers["content-disposition"]
    assert "\\" not in served
    assert not any(c in served for c in "\u202e\u2067\u2069\u200b\u061c\u200e\u200f\x07\x1b")


def _booking_trial(windows: list[dict[str, str]]) -> dict[str, Any]:
    booking = {"slot_minutes": 5, "capacity": 1, "windows": windows}
    return {"kind": "oral", "title": "Entretien", "booking": booking}


def test_a_huge_booking_window_is_refused_before_any_slot_is_cut(
    client: Any, hr: dict[str, str], build: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared import slots

    cut = slots.cut
    handed: list[int] = [0]

    def counting_cut(*args: Any, **kwargs: Any) -> Any:
        for slot in cut(*args, **kwargs):
            handed[0] += 1
            assert handed[0] <= slots.MAX_SLOTS, "cut past the cap before refusing"
            yield slot

    monkeypatch.setattr(slots, "cut", counting_cut)
    job = build.job()
    # about 700 million five-minute slots
    huge = [{"start": "2027-01-01T00:00:00+00:00", "end": "9999-01-01T00:00:00+00:00"}]
    path = f"/api/v1/jobs/{job['id']}/trials"
    body = assert_problem(client.post(path, json=_booking_trial(huge), headers=hr), 422)
    assert "2000" in body["detail"]
    assert handed == [0]

    just = [{"start": "2027-01-01T00:00:00+00:00", "end": "2027-01-07T22:40:00+00:00"}]
    assert client.post(path, json=_booking_trial(just), headers=hr).status_code == 201
    assert handed == [slots.MAX_SLOTS]
    over = [{"start": "2027-01-01T00:00:00+00:00", "end": "2027-01-07T22:45:00+00:00"}]
    assert_problem(client.post(path, json=_booking_trial(over), headers=hr), 422)


def test_counting_slots_agrees_with_cutting_them() -> None:
    from datetime import UTC, datetime, timedelta

    from shared import slots

    start = datetime(2027, 3, 1, 9, tzinfo=UTC)
    for minutes in (5, 7, 30, 45):
        for spans in ([0], [1, 29, 30, 31], [125, 60, 5]):
            windows = [
                (start + timedelta(days=i), start + timedelta(days=i, minutes=span))
                for i, span in enumerate(spans)
            ]
            assert slots.count(windows, minutes) == len(list(slots.cut(windows, minutes)))


@pytest.fixture
def unreachable_database_and_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """/readyz's checks pointed at a closed port (9) with a user and password in the URLs."""
    from sqlalchemy import create_engine

    from services.api.health import router as health
    from shared.celery_app import make_celery
    from shared.settings import Settings

    dead = create_engine("postgresql+psycopg://recrue:s3cret@127.0.0.1:9/recrue")
    monkeypatch.setattr(health, "get_engine", lambda: dead)
    settings = Settings(broker_url="redis://:s3cret@127.0.0.1:9/0")
    monkeypatch.setattr(health, "make_celery", lambda name: make_celery(name, settings))


def test_readyz_names_the_failing_checks_but_not_their_errors(
    client: Any, unreachable_database_and_broker: None, caplog: pytest.LogCaptureFixture
) -> None:
    response = client.get("/readyz")
    body = assert_problem(response, 503)
    assert body["checks"] == {"database": "unreachable", "broker": "unreachable"}
    for secret in ("127.0.0.1", "port 9", ":9", "s3cret", "Error", "refused"):
        assert secret not in response.text
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.endswith("health.router"))
    assert "database unreachable" in logged
    assert "broker unreachable" in logged
    assert "127.0.0.1" in logged


@pytest.fixture
def app_with(monkeypatch: pytest.MonkeyPatch) -> Any:
    """An API built under some environment variables (the settings cache is cleared around)."""
    from fastapi.testclient import TestClient

    from services.api.main import create_app
    from shared.settings import get_settings

    def make(**environment: str) -> Any:
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        return TestClient(create_app(), raise_server_exceptions=False)

    yield make
    monkeypatch.undo()
    get_settings.cache_clear()


def _csp(response: Any) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {d.split()[0]: d.strip() for d in policy.split(";") if d.strip()}


def _hardened(response: Any) -> dict[str, str]:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    csp = _csp(response)
    assert csp["default-src"] == "default-src 'none'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["base-uri"] == "base-uri 'none'"
    assert "script-src" not in csp or "'unsafe-inline'" not in csp["script-src"]
    return csp


def test_api_answers_and_problems_carry_security_headers(
    client: Any, hr: dict[str, str], build: Any
) -> None:
    job = build.job()
    for response in (
        client.get("/api/v1/jobs", headers=hr),
        client.get(f"/api/v1/jobs/{uuid.uuid4()}", headers=hr),
        client.get("/api/v1/jobs"),
        client.get("/healthz"),
    ):
        assert "script-src" not in _hardened(response)
    report = client.get(f"/api/v1/jobs/{job['id']}/shortlist/report?format=html", headers=hr)
    assert report.status_code == 200, report.text
    assert report.headers["content-type"].startswith("text/html")
    assert "<style>" in report.text and "<script" not in report.text
    csp = _hardened(report)
    assert csp["style-src"] == "style-src 'unsafe-inline'"
    assert "script-src" not in csp


def test_candidate_pages_carry_a_strict_policy(client: Any) -> None:
    page = client.get("/c/not-a-real-token")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    csp = _hardened(page)
    assert csp["form-action"] == "form-action 'self'"
    assert "script-src" not in csp
    assert "<script" not in page.text
    assert page.headers["referrer-policy"] == "no-referrer"


def test_docs_serve_swagger_ui_from_here_under_a_policy_it_works_with(client: Any) -> None:
    import re

    docs = client.get("/docs")
    assert docs.status_code == 200
    csp = _hardened(docs)
    assert csp["script-src"] == "script-src 'self'"
    assert "'self'" in csp["connect-src"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert sources and all(s.startswith("/docs/assets/") for s in sources), sources
    assert re.search(r"<script>|<script[^>]*>[^<]", docs.text) is None, "no inline script"
    assert 'data-openapi-url="/openapi.json"' in docs.text
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 50
        _hardened(asset)
    assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").text
    assert client.get("/docs/assets/index.html").status_code == 404
    assert client.get("/docs/assets/..%2F__init__.py").status_code == 404
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/redoc").status_code == 404  # it loaded its script from a CDN


def test_docs_can_be_turned_off(app_with: Any) -> None:
    client = app_with(DOCS_ENABLED="false")
    for path in ("/docs", "/openapi.json", "/docs/assets/swagger-ui-bundle.js"):
        assert_problem(client.get(path), 404)
    assert client.get("/healthz").status_code == 200


def test_metrics_can_be_turned_off(app_with: Any) -> None:
    assert_problem(app_with(METRICS_ENABLED="false").get("/metrics"), 404)


def test_metrics_with_a_token_want_it(app_with: Any) -> None:
    client = app_with(METRICS_TOKEN="scrape-me")
    assert_problem(client.get("/metrics"), 401)
    wrong = {"Authorization": "Bearer scrape-you"}
    assert_problem(client.get("/metrics", headers=wrong), 401)
    right = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert right.status_code == 200
    assert "recrue_http_requests_total" in right.text


def test_metrics_are_open_by_default(client: Any) -> None:
    assert client.get("/metrics").status_code == 200


def _page_with_the_database_down(
    request: Any, accept_language: str | None, *, found: bool = False
) -> Any:
    """Ask for a candidate page while the database does not answer. `found`: the link was
    found, and the database went away before the commit."""
    from collections.abc import Iterator

    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    from services.api.deps import get_session
    from services.api.main import create_app
    from tests.mailbox import free_port

    nowhere = create_engine(f"postgresql+psycopg://recrue@127.0.0.1:{free_port()}/recrue")

    def unreachable() -> Iterator[Session]:
        with Session(nowhere) as session:
            yield session

    def lost_before_commit() -> Iterator[Session]:
        from shared.db import get_sessionmaker

        with get_sessionmaker()() as session:
            yield session
            raise OperationalError("COMMIT", {}, ConnectionError("server closed the connection"))

    app = create_app()
    app.dependency_overrides[get_session] = lost_before_commit if found else unreachable
    headers = {"Accept-Language": accept_language} if accept_language else {}
    with TestClient(app, raise_server_exceptions=False) as client:
        return request(client, headers)


@pytest.mark.parametrize(
    ("accept_language", "lang", "words"),
    [
        ("de-BE,de;q=0.9,fr;q=0.5", "de", "Bitte versuchen Sie es in einigen Minuten erneut."),
        ("nl-BE", "nl", "Probeer het over enkele minuten opnieuw."),
        ("fr", "fr", "Veuillez réessayer dans quelques minutes."),
        (None, "en", "Please try again in a few minutes."),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_candidate_page_with_the_database_down_is_a_page_in_the_browser_language(
    accept_language: str | None, lang: str, words: str, method: str
) -> None:
    from shared import links

    signed = links._serializer().dumps({"t": str(uuid.uuid4()), "p": LinkPurpose.ANSWER_INVITATION})
    data = {"action": "answer_invitation", "answer": "accept"} if method == "POST" else None
    page = _page_with_the_database_down(
        lambda client, headers: client.request(method, f"/c/{signed}", data=data, headers=headers),
        accept_language,
    )
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["retry-after"] == "5"
    assert f'lang="{lang}"' in page.text
    assert words in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_a_candidate_page_lost_at_the_commit_is_in_the_candidates_language(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    from tests.api.test_candidate_pages import _link, _returned

    application = _returned(client, build, hr, language="nl")
    link = _link(application["id"], "changes_requested")
    form = {"action": "update_application", "cover_letter": "Brief", "summary": "", "phone": ""}
    page = _page_with_the_database_down(
        lambda client, headers: client.post(link, data=form, headers=headers),
        "de",
        found=True,
    )
    assert page.status_code == 503
    assert 'lang="nl"' in page.text
    assert "Probeer het over enkele minuten opnieuw." in page.text
