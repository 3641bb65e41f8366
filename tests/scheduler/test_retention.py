"""Beat's retention sweeps, called directly: exactly the expired ones are anonymised, the
renewal goes out once, the link keeps the profile, holds, the recruit and a valid reserve are
kept; twice in a row and by two beats at once."""

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from services.scheduler.retention import send_renewals, sweep_retention
from shared.db import session_scope
from shared.models import Application, Dossier, Job, Message, utcnow
from shared.retention import add_months
from tests.beats import as_two_beats
from tests.builders import Builders

MONTH = timedelta(days=31)


def _no_publish(_: Any) -> None:
    """The emails stay queued: these tests read the rows."""


def _profile(client: Any, build: Builders, hr: dict[str, str], acted_ago: timedelta) -> str:
    candidate = build.candidate()
    application = client.post(
        "/api/v1/applications",
        json={"kind": "spontaneous", "candidate_id": candidate["id"]},
        headers=hr,
    ).json()
    with session_scope() as session:
        row = session.get(Application, uuid.UUID(application["id"]))
        assert row is not None
        row.candidate_acted_at = add_months(utcnow(), -12) + acted_ago
    return str(application["id"])


def _anonymised(client: Any, hr: dict[str, str], *application_ids: str) -> list[bool]:
    found = []
    for application_id in application_ids:
        application = client.get(f"/api/v1/applications/{application_id}", headers=hr).json()
        candidate = client.get(
            f"/api/v1/candidates/{application['candidate']['id']}", headers=hr
        ).json()
        found.append(candidate["anonymised_at"] is not None)
    return found


def _renewals() -> list[Message]:
    with session_scope() as session:
        rows = session.scalars(select(Message).where(Message.kind == "cv_bank_renewal")).all()
        session.expunge_all()
        return list(rows)


def test_cv_bank_profiles_are_asked_once_then_kept_or_anonymised(
    client: Any, build: Builders, hr: dict[str, str]
) -> None:
    nearing = _profile(client, build, hr, timedelta(days=10))
    expired = _profile(client, build, hr, -timedelta(days=1))
    recent = _profile(client, build, hr, 6 * MONTH)

    assert send_renewals(publish=_no_publish) == 2  # the nearing one and the expired one
    assert send_renewals(publish=_no_publish) == 0, "once"
    assert sorted(str(m.application_id) for m in _renewals()) == sorted([nearing, expired])
    assert sweep_retention() == 1
    assert sweep_retention() == 0, "a second run finds nothing"
    assert _anonymised(client, hr, nearing, expired, recent) == [False, True, False]

    [email] = [m for m in _renewals() if str(m.application_id) == nearing]
    link = email.context["link"].removeprefix("http://127.0.0.1:8000")
    page = client.get(link)
    assert page.status_code == 200
    assert email.to_address in page.text, "the page shows what is kept"
    kept = client.post(link, data={"action": "keep_profile", "answer": "keep"})
    assert kept.status_code == 200
    with session_scope() as session:
        row = session.get(Application, uuid.UUID(nearing))
        assert row is not None and row.candidate_acted_at is not None
        assert row.candidate_acted_at > utcnow() - timedelta(minutes=1), "a new period"
    assert send_renewals(publish=_no_publish) == 0
    assert sweep_retention() == 0
    assert _anonymised(client, hr, nearing) == [False]


def test_an_expired_profile_of_a_candidate_who_applied_since_goes_alone(
    client: Any, build: Builders, hr: dict[str, str]
) -> None:
    expired = _profile(client, build, hr, -timedelta(days=1))
    candidate = client.get(f"/api/v1/applications/{expired}", headers=hr).json()["candidate"]
    since = build.application(candidate=candidate, cover_letter="Toujours motivée.")

    assert sweep_retention() == 1
    assert _anonymised(client, hr, expired) == [False], "the person stays: they applied since"
    with session_scope() as session:
        gone = session.get(Application, uuid.UUID(expired))
        kept = session.get(Application, uuid.UUID(since["id"]))
        assert gone is not None and gone.anonymised_at is not None
        assert kept is not None and kept.anonymised_at is None
        assert kept.cover_letter == "Toujours motivée."


def test_the_candidate_deletes_the_profile_through_the_link(
    client: Any, build: Builders, hr: dict[str, str]
) -> None:
    nearing = _profile(client, build, hr, timedelta(days=5))
    send_renewals(publish=_no_publish)
    [email] = _renewals()
    link = email.context["link"].removeprefix("http://127.0.0.1:8000")
    deleted = client.post(link, data={"action": "keep_profile", "answer": "delete"})
    assert deleted.status_code == 200
    assert _anonymised(client, hr, nearing) == [True]
    assert client.get(link).status_code == 404, "the link went with the profile"


def _close(job: dict[str, Any], closed_ago: timedelta, decided_ago: timedelta) -> None:
    with session_scope() as session:
        row = session.get(Job, uuid.UUID(job["id"]))
        assert row is not None
        row.status, row.closed_at = "closed", utcnow() - closed_ago
        row.deliberation_decided_on = date.today() - decided_ago


def _status(dossier: dict[str, Any], status: str) -> None:
    with session_scope() as session:
        row = session.get(Dossier, uuid.UUID(dossier["id"]))
        assert row is not None
        row.status = status


def test_closed_jobs_dossiers_past_retention(
    client: Any, build: Builders, hr: dict[str, str]
) -> None:
    old, recent_reserve, young = build.job(), build.job(), build.job()
    plain, held, hired, reserve = (build.dossier(old) for _ in range(4))
    valid_reserve, kept_young = build.dossier(recent_reserve), build.dossier(young)
    never_validated = build.application(old)
    _close(old, 25 * MONTH, 26 * MONTH)
    _close(recent_reserve, 25 * MONTH, 12 * MONTH)
    _close(young, 12 * MONTH, 13 * MONTH)
    _status(hired, "hired")
    _status(reserve, "reserve")
    _status(valid_reserve, "reserve")
    hold = client.post(
        f"/api/v1/dossiers/{held['id']}/legal-hold", json={"reason": "recours"}, headers=hr
    )
    assert hold.status_code == 200

    assert sweep_retention() == 3
    assert sweep_retention() == 0
    ids = [d["application_id"] for d in (plain, held, hired, reserve, valid_reserve, kept_young)]
    assert _anonymised(client, hr, *ids, never_validated["id"]) == [
        True,
        False,
        False,
        True,
        False,
        False,
        True,
    ]
    recruit = client.get(f"/api/v1/dossiers/{hired['id']}", headers=hr).json()
    assert recruit["personnel_file_since"] is not None
    stats = client.get(f"/api/v1/stats?job_id={old['id']}", headers=hr).json()
    assert stats["dossiers"] == 4, "anonymised dossiers still count"

    client.delete(f"/api/v1/dossiers/{held['id']}/legal-hold", headers=hr)
    assert sweep_retention() == 1, "the lifted hold protects no more"


def test_two_beats_at_once_anonymise_and_email_each_once(
    client: Any, build: Builders, hr: dict[str, str]
) -> None:
    nearing = [_profile(client, build, hr, timedelta(days=3)) for _ in range(6)]
    expired = [_profile(client, build, hr, -timedelta(days=3)) for _ in range(6)]
    counts: list[int] = []
    as_two_beats(
        lambda: counts.append(send_renewals(publish=_no_publish) + 100 * sweep_retention())
    )
    assert sum(counts) == 12 + 100 * 6
    assert sorted(str(m.application_id) for m in _renewals()) == sorted(nearing + expired)
    assert _anonymised(client, hr, *nearing) == [False] * 6
    assert _anonymised(client, hr, *expired) == [True] * 6


def test_months_are_calendar_months() -> None:
    from datetime import UTC, datetime

    end_of_january = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    assert add_months(end_of_january, 1) == datetime(2026, 2, 28, 9, 0, tzinfo=UTC)
    assert add_months(end_of_january, 13) == datetime(2027, 2, 28, 9, 0, tzinfo=UTC)
    assert add_months(end_of_january, -12) == datetime(2025, 1, 31, 9, 0, tzinfo=UTC)
    assert add_months(datetime(2024, 3, 31, tzinfo=UTC), -1) == datetime(2024, 2, 29, tzinfo=UTC)
