"""How many SQL statements the list routes and the candidate pages send: a fixed number, however
many rows they show (every relationship raises unless its query loads it: no query per row)."""

from typing import Any

from shared.outbox import flush_marks
from tests.builders import booking_links

# A request's own statements: the API key, then the page (`total` only with count=true); the
# loads of its rows.
LIST_BUDGET = 6
# A trial's page loads the candidate's language with the participation: 4 for a booking page,
# 7 for a booking (the link, the participation, the seat, the flush of three rows, and the
# outbox mark, which a thread of the API writes a few ms after the answer).
PAGE_BUDGET = 7
SLOTS = {
    "slot_minutes": 30,
    "capacity": 2,
    "windows": [{"start": "2027-06-15T09:00:00+02:00", "end": "2027-06-15T18:00:00+02:00"}],
}


def _count(statements: list[str], client: Any, method: str, path: str, **kwargs: Any) -> int:
    flush_marks()  # the marks of earlier requests are not this one's
    statements.clear()
    response = client.request(method, path, **kwargs)
    assert response.status_code == 200, response.text
    flush_marks()  # this request's mark, written after its answer
    return len(statements)


def _hr_lists(job: dict[str, Any], trial: dict[str, Any]) -> list[str]:
    return [
        "/api/v1/applications?limit=50",
        "/api/v1/dossiers?limit=50",
        f"/api/v1/dossiers?job_id={job['id']}&limit=50",
        f"/api/v1/jobs/{job['id']}/trials",
        f"/api/v1/trials/{trial['id']}/participations",
        f"/api/v1/trials/{trial['id']}/slots",
        f"/api/v1/trials/{trial['id']}",
    ]


def test_the_lists_send_as_many_statements_for_2_rows_as_for_12(
    client: Any, build: Any, hr: dict[str, str], statements: list[str]
) -> None:
    job = build.job()
    body = {"kind": "oral", "title": "Entretien", "booking": SLOTS}
    trial = client.post(f"/api/v1/jobs/{job['id']}/trials", json=body, headers=hr).json()
    written = build.written_trial(job)
    few = [build.dossier(job) for _ in range(2)]
    build.invite(trial, *few)
    build.invite(written, *few)
    before = {
        path: _count(statements, client, "GET", path, headers=hr) for path in _hr_lists(job, trial)
    }

    more = [build.dossier(job) for _ in range(10)]
    build.invite(trial, *more)
    build.invite(written, *more)
    build.application(job)  # and applications not validated
    after = {
        path: _count(statements, client, "GET", path, headers=hr) for path in _hr_lists(job, trial)
    }

    assert after == before
    assert max(after.values()) <= LIST_BUDGET, after


def test_a_booking_page_and_a_booking_send_a_fixed_number_of_statements(
    client: Any, build: Any, hr: dict[str, str], statements: list[str]
) -> None:
    job = build.job()
    body = {"kind": "oral", "title": "Entretien", "booking": SLOTS}
    trial = client.post(f"/api/v1/jobs/{job['id']}/trials", json=body, headers=hr).json()
    build.invite(trial, *[build.dossier(job) for _ in range(6)])
    slots = client.get(f"/api/v1/trials/{trial['id']}/slots", headers=hr).json()["items"]
    first, second, *_ = booking_links(trial["id"])

    pages = [_count(statements, client, "GET", path) for path in (first, second)]
    booked = [
        _count(
            statements,
            client,
            "POST",
            path,
            data={"action": "book_slot", "slot_id": slots[0]["id"]},
        )
        for path in (first, second)
    ]
    shown = _count(statements, client, "GET", first)  # booked: what it shows now

    assert pages[0] == pages[1] and booked[0] == booked[1]
    assert max(*pages, *booked, shown) <= PAGE_BUDGET, (pages, booked, shown)
    taken = client.get(f"/api/v1/trials/{trial['id']}/slots", headers=hr).json()["items"][0]
    assert taken["booked"] == 2
