"""Lists page by keyset: `next_cursor` carries the last row's sort values, so every row is seen
once in order, a row added meanwhile shifts nothing, and a deep page is the same query as the
first. `total` only with `?count=true`."""

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from shared.db import session_scope
from shared.models import Application
from shared.outbox import flush_marks


def _walk(client: Any, path: str, hr: dict[str, str], limit: int) -> list[list[dict[str, Any]]]:
    """Every page of a list, following `next_cursor`."""
    pages, cursor = [], None
    joiner = "&" if "?" in path else "?"
    while True:
        url = f"{path}{joiner}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url, headers=hr)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] is None, "counted only when asked"
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def _same_time(application_ids: list[str], moment: datetime) -> None:
    with session_scope() as session:
        session.execute(
            update(Application)
            .where(Application.id.in_([uuid.UUID(i) for i in application_ids]))
            .values(created_at=moment)
        )


def test_every_row_once_in_order_in_both_directions_ties_included(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job()
    applications = [build.application(job)["id"] for _ in range(7)]
    _same_time(applications[2:6], datetime(2026, 3, 1, 9, 30, tzinfo=UTC))  # a tie of four

    for sort in ("created_at", "-created_at"):
        path = f"/api/v1/applications?job_id={job['id']}&sort={sort}"
        pages = _walk(client, path, hr, limit=2)
        walked = [item["id"] for page in pages for item in page]
        whole = client.get(f"{path}&limit=500&count=true", headers=hr).json()
        assert [len(page) for page in pages] == [2, 2, 2, 1]
        assert walked == [item["id"] for item in whole["items"]]
        assert sorted(walked) == sorted(applications) and whole["total"] == 7
        keys = [(item["created_at"], item["id"]) for item in whole["items"]]
        assert keys == sorted(keys, reverse=sort.startswith("-"))


def test_a_row_added_between_two_pages_shifts_nothing(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job()
    for _ in range(4):
        build.application(job)
    path = f"/api/v1/applications?job_id={job['id']}&limit=2"
    first = client.get(path, headers=hr).json()
    build.application(job)  # newest: it goes before the first page
    second = client.get(f"{path}&cursor={first['next_cursor']}", headers=hr).json()
    assert second["next_cursor"] is None
    seen = [item["id"] for item in first["items"] + second["items"]]
    assert len(set(seen)) == 4, "no row twice, none skipped"


def test_every_list_walks_to_its_end(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    for _ in range(3):
        build.dossier(job, candidate=build.candidate(last_name="Peeters", first_name="Jan"))
        build.job()
    for path in (
        "/api/v1/jobs",
        "/api/v1/candidates?q=peeters",
        f"/api/v1/dossiers?job_id={job['id']}",
        "/api/v1/messages",
        "/api/v1/notices",
    ):
        joiner = "&" if "?" in path else "?"
        whole = client.get(f"{path}{joiner}limit=500&count=true", headers=hr).json()
        walked = [item["id"] for page in _walk(client, path, hr, limit=1) for item in page]
        assert walked == [item["id"] for item in whole["items"]], path
        assert len(walked) == whole["total"], path


def _bare(sql: str) -> str:
    """A statement with its parameters' names (numbered on PostgreSQL) as `?`."""
    return re.sub(r"%\(\w+\)s", "?", sql)


def test_a_deep_page_is_the_first_pages_query_with_a_bound(
    client: Any, build: Any, hr: dict[str, str], statements: list[str]
) -> None:
    job = build.job()
    for _ in range(6):  # the fifth page is deep, and not the last
        build.application(job)
    path = f"/api/v1/applications?job_id={job['id']}&limit=1"
    flush_marks()  # the outbox marks of the applications' emails: not the list's statements
    statements.clear()
    first = client.get(path, headers=hr).json()
    on_first = list(statements)
    cursor = first["next_cursor"]
    for _ in range(3):
        cursor = client.get(f"{path}&cursor={cursor}", headers=hr).json()["next_cursor"]
    statements.clear()
    assert client.get(f"{path}&cursor={cursor}", headers=hr).json()["items"]
    # The same statements, the page's own with one more bound: no OFFSET to skip rows, no count.
    keyset = re.compile(r" AND \(applications\.created_at, applications\.id\) < \([^)]*\)")
    assert [keyset.sub("", _bare(sql)) for sql in statements] == [_bare(sql) for sql in on_first]
    assert len([sql for sql in statements if keyset.search(_bare(sql))]) == 1
    assert not [sql for sql in on_first if "count(" in sql.lower()]
