"""Findings of the security audit's low-severity part (issue 12): each through HTTP or the
process, each a 4xx problem+json rather than a 500 or a leak."""

import base64
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

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


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


@pytest.mark.parametrize("offset", [2**63, 10**30])
def test_a_cursor_beyond_bigint_is_a_422(client: Any, hr: dict[str, str], offset: int) -> None:
    for path in ("/api/v1/applications", "/api/v1/dossiers", "/api/v1/jobs", "/api/v1/notices"):
        response = client.get(path, params={"cursor": _cursor(offset)}, headers=hr)
        body = assert_problem(response, 422)
        assert "cursor" in body["detail"]


def test_the_largest_bigint_cursor_is_an_empty_page(client: Any, hr: dict[str, str]) -> None:
    response = client.get("/api/v1/jobs", params={"cursor": _cursor(2**63 - 1)}, headers=hr)
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


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
