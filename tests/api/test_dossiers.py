"""Dossiers: lists and counts per job, reject and withdraw, notes, attachments, messages."""

from collections.abc import Iterator
from typing import Any

import pytest

from shared.settings import get_settings

PDF = b"%PDF-1.7\n%%EOF\n"


def test_list_filters(client: Any, build: Any, hr: dict[str, str]) -> None:
    spring = build.job(year=2026, campaign="printemps", title="Juriste")
    autumn = build.job(year=2025, campaign="automne", title="Comptable")
    first = build.dossier(spring, candidate=build.candidate(last_name="Janssens"))
    build.dossier(spring)
    build.dossier(autumn)

    def ids(query: str) -> set[str]:
        response = client.get(f"/api/v1/dossiers?{query}", headers=hr)
        assert response.status_code == 200, response.text
        return {d["id"] for d in response.json()["items"]}

    assert len(ids("")) == 3
    assert len(ids(f"job_id={spring['id']}")) == 2
    assert len(ids("year=2025")) == 1
    assert len(ids("campaign=printemps")) == 2
    assert ids("q=janss") == {first["id"]}
    assert len(ids("q=comptable")) == 1
    assert ids("status=rejected") == set()
    assert client.get("/api/v1/dossiers?status=nonsense", headers=hr).status_code == 422


def test_summary_counts_per_job(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job(reference="SUM-1", year=2026)
    other = build.job(reference="SUM-2", year=2026)
    dossiers = [build.dossier(job) for _ in range(3)]
    build.dossier(other)
    client.post(
        f"/api/v1/dossiers/{dossiers[0]['id']}/reject",
        json={"reason": "profil"},
        headers=hr,
    )

    summary = client.get("/api/v1/dossiers/summary?group_by=job&year=2026", headers=hr).json()

    counts = {row["job"]["reference"]: row for row in summary["items"]}
    assert counts["SUM-1"]["total"] == 3
    assert counts["SUM-1"]["by_status"] == {"open": 2, "rejected": 1}
    assert counts["SUM-2"]["by_status"] == {"open": 1}


def test_reject_with_notification(client: Any, build: Any, hr: dict[str, str]) -> None:
    dossier = build.dossier()
    response = client.post(
        f"/api/v1/dossiers/{dossier['id']}/reject",
        json={"reason": "Diplôme requis manquant", "notify": True},
        headers=hr,
    )
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    messages = client.get(f"/api/v1/messages?dossier_id={dossier['id']}", headers=hr).json()
    assert [m["kind"] for m in messages["items"]] == ["application_validated", "dossier_rejected"]
    history = client.get(f"/api/v1/dossiers/{dossier['id']}/history", headers=hr).json()["items"]
    rejected = next(e for e in history if e["action"] == "dossier_rejected")
    assert rejected["before"] == {"status": "open"}
    assert rejected["after"]["reason"] == "Diplôme requis manquant"

    again = client.post(
        f"/api/v1/dossiers/{dossier['id']}/reject", json={"reason": "x"}, headers=hr
    )
    assert again.status_code == 409 and again.json()["state"] == "rejected"


def test_reject_without_notification_sends_nothing(client: Any, build: Any, hr: Any) -> None:
    dossier = build.dossier()
    client.post(f"/api/v1/dossiers/{dossier['id']}/reject", json={"reason": "x"}, headers=hr)
    messages = client.get(f"/api/v1/messages?dossier_id={dossier['id']}", headers=hr).json()
    assert [m["kind"] for m in messages["items"]] == ["application_validated"]


def test_withdraw(client: Any, build: Any, hr: dict[str, str]) -> None:
    dossier = build.dossier()
    path = f"/api/v1/dossiers/{dossier['id']}/withdraw"
    response = client.post(path, json={"reason": "a trouvé un autre emploi"}, headers=hr)
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert client.post(path, json={}, headers=hr).json()["state"] == "withdrawn"


def test_notes_and_attachments(client: Any, build: Any, hr: dict[str, str], api_key: Any) -> None:
    dossier = build.dossier()
    base = f"/api/v1/dossiers/{dossier['id']}"
    assert (
        client.post(f"{base}/notes", json={"text": "Entretien solide"}, headers=hr).status_code
        == 201
    )
    uploaded = client.post(
        f"{base}/attachments", files={"file": ("diplome.pdf", PDF, "application/pdf")}, headers=hr
    )
    assert uploaded.status_code == 201
    listed = client.get(f"{base}/attachments", headers=hr).json()["items"]
    assert [a["filename"] for a in listed] == ["diplome.pdf"]
    download = client.get(f"/api/v1/attachments/{listed[0]['id']}", headers=hr)
    assert download.content == PDF

    viewer = api_key("viewer")
    assert client.get(f"{base}/notes", headers=viewer).status_code == 403
    assert client.get(f"{base}/attachments", headers=viewer).status_code == 403
    assert client.get(f"/api/v1/attachments/{listed[0]['id']}", headers=viewer).status_code == 403
    detail = client.get(base, headers=viewer)
    assert detail.status_code == 200 and "Entretien solide" not in detail.text
    actions = [e["action"] for e in client.get(f"{base}/history", headers=hr).json()["items"]]
    assert actions[-2:] == ["note_added", "attachment_added"]


def test_a_cv_is_not_an_attachment(client: Any, build: Any, hr: dict[str, str]) -> None:
    application = build.application()
    cv = client.post(
        f"/api/v1/applications/{application['id']}/cv",
        files={"file": ("cv.pdf", PDF, "application/pdf")},
        headers=hr,
    ).json()
    assert client.get(f"/api/v1/attachments/{cv['id']}", headers=hr).status_code == 404


def test_write_to_selected_candidates(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    dossiers = [build.dossier(job) for _ in range(3)]
    body = {
        "dossier_ids": [d["id"] for d in dossiers[:2]],
        "subject": "Report de la séance d'information",
        "body": "La séance est reportée au 12 mars.",
    }
    headers = {**hr, "Idempotency-Key": "batch-42"}

    first = client.post("/api/v1/messages", json=body, headers=headers)
    assert first.status_code == 202
    assert [m["kind"] for m in first.json()["items"]] == ["free_message", "free_message"]
    repeat = client.post("/api/v1/messages", json=body, headers=headers)
    assert repeat.headers["idempotent-replayed"] == "true"  # the one mechanism of every write
    assert [m["id"] for m in repeat.json()["items"]] == [m["id"] for m in first.json()["items"]]

    for dossier, expected in zip(dossiers, [1, 1, 0], strict=True):
        messages = client.get(f"/api/v1/messages?dossier_id={dossier['id']}", headers=hr).json()
        free = [m for m in messages["items"] if m["kind"] == "free_message"]
        assert len(free) == expected
        if free:
            assert free[0]["status"] in {"queued", "sending", "sent"}
    unknown = {**body, "dossier_ids": ["00000000-0000-0000-0000-000000000000"]}
    assert client.post("/api/v1/messages", json=unknown, headers=hr).status_code == 404


def test_messages_from_a_template(client: Any, build: Any, hr: dict[str, str]) -> None:
    dossier = build.dossier()
    ok = client.post(
        "/api/v1/messages",
        json={"dossier_ids": [dossier["id"]], "template": "not_retained"},
        headers=hr,
    )
    assert ok.status_code == 202
    assert [m["kind"] for m in ok.json()["items"]] == ["not_retained"]
    for wrong in (
        {"template": "welcome"},  # needs a start date: not a template for bulk messages
        {"template": "not_retained", "subject": "s", "body": "b"},
        {"subject": "only a subject"},
    ):
        body = {"dossier_ids": [dossier["id"]], **wrong}
        assert client.post("/api/v1/messages", json=body, headers=hr).status_code == 422, wrong


@pytest.fixture
def dossier_review(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DOSSIER_REVIEW", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("DOSSIER_REVIEW")
    get_settings.cache_clear()


def test_with_review_hr_admits_or_refuses_each_dossier(
    client: Any, build: Any, hr: dict[str, str], dossier_review: None
) -> None:
    job = build.job()
    admitted, refused = build.dossier(job), build.dossier(job)
    assert admitted["status"] == refused["status"] == "under_review"
    trial = build.written_trial(job)

    early = client.post(
        f"/api/v1/trials/{trial['id']}/invitations",
        json={"dossier_ids": [admitted["id"]]},
        headers=hr,
    )
    assert early.status_code == 409 and early.json()["state"] == "under_review"
    nobody = client.post(
        f"/api/v1/trials/{trial['id']}/invitations", json={"all_eligible": True}, headers=hr
    )
    assert nobody.json()["invited"] == []

    answer = client.post(
        f"/api/v1/dossiers/{admitted['id']}/admit",
        json={"note": "diplôme vérifié", "notify": True},
        headers=hr,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "open"
    again = client.post(f"/api/v1/dossiers/{admitted['id']}/admit", json={}, headers=hr)
    assert again.status_code == 409 and again.json()["state"] == "open"
    rejected = client.post(
        f"/api/v1/dossiers/{refused['id']}/reject", json={"reason": "hors profil"}, headers=hr
    )
    assert rejected.json()["status"] == "rejected"

    invited = client.post(
        f"/api/v1/trials/{trial['id']}/invitations", json={"all_eligible": True}, headers=hr
    ).json()["invited"]
    assert [p["dossier_id"] for p in invited] == [admitted["id"]]
    kinds = [
        m["kind"]
        for m in client.get(f"/api/v1/messages?dossier_id={admitted['id']}", headers=hr).json()[
            "items"
        ]
    ]
    assert kinds == ["application_validated", "dossier_admitted"]
    history = client.get(f"/api/v1/dossiers/{admitted['id']}/history", headers=hr).json()
    [step] = [e for e in history["items"] if e["action"] == "dossier_admitted"]
    assert step["before"] == {"status": "under_review"}
    assert step["after"]["note"] == "diplôme vérifié"
    listed = client.get(f"/api/v1/dossiers?job_id={job['id']}&status=open", headers=hr).json()
    assert [d["id"] for d in listed["items"]] == [admitted["id"]]
    stats = client.get(f"/api/v1/stats?job_id={job['id']}", headers=hr).json()
    assert stats["dossiers_by_status"] == {"open": 1, "rejected": 1}


def test_without_review_validation_admits_at_once(client: Any, build: Any) -> None:
    dossier = build.dossier()
    assert dossier["status"] == "open"
