"""What HR does in the CV bank: edit, request changes, propose a job, notes, availability, CV."""

import io
import tracemalloc
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from shared.db import session_scope
from shared.models import CandidateToken, Message

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _actions(client: Any, hr: dict[str, str], application_id: str) -> list[str]:
    history = client.get(f"/api/v1/applications/{application_id}/history", headers=hr)
    assert history.status_code == 200
    return [entry["action"] for entry in history.json()["items"]]


def _messages(application_id: str) -> list[Message]:
    with session_scope() as session:
        rows = session.scalars(
            select(Message).where(Message.application_id == uuid.UUID(application_id))
        ).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def test_edit_keeps_before_and_after(client: Any, build: Any, hr: dict[str, str]) -> None:
    application = build.application(cover_letter="Ancienne lettre")
    response = client.patch(
        f"/api/v1/applications/{application['id']}",
        json={"cover_letter": "Nouvelle lettre", "profile": {"summary": "Juriste"}},
        headers=hr,
    )
    assert response.status_code == 200
    assert response.json()["cover_letter"] == "Nouvelle lettre"
    history = client.get(f"/api/v1/applications/{application['id']}/history", headers=hr).json()
    edited = history["items"][-1]
    assert edited["action"] == "application_edited"
    assert edited["before"]["cover_letter"] == "Ancienne lettre"
    assert edited["after"]["profile"] == {"summary": "Juriste"}


def test_request_changes_emails_a_link(client: Any, build: Any, hr: dict[str, str]) -> None:
    application = build.application()
    response = client.post(
        f"/api/v1/applications/{application['id']}/request-changes",
        json={"message": "Merci d'ajouter votre diplôme."},
        headers=hr,
    )
    assert response.status_code == 200
    assert response.json()["status"] == "changes_requested"
    [message] = _messages(application["id"])
    assert message.kind == "changes_requested"
    assert message.context["message"] == "Merci d'ajouter votre diplôme."
    assert "/c/" in message.context["link"]
    assert _actions(client, hr, application["id"])[-2:] == [
        "changes_requested",
        "email_queued:changes_requested",
    ]

    again = client.post(
        f"/api/v1/applications/{application['id']}/request-changes",
        json={"message": "encore"},
        headers=hr,
    )
    assert again.status_code == 409
    assert again.json()["state"] == "changes_requested"


def test_propose_job_emails_the_job_and_a_link(client: Any, build: Any, hr: dict[str, str]) -> None:
    candidate = build.candidate()
    spontaneous = client.post(
        "/api/v1/applications",
        json={"kind": "spontaneous", "candidate_id": candidate["id"]},
        headers=hr,
    ).json()
    job = build.job(title="Bibliothécaire", reference="BIB-1")

    response = client.post(
        f"/api/v1/applications/{spontaneous['id']}/propose-job",
        json={"job_id": job["id"], "message": "Ce poste vous irait bien."},
        headers=hr,
    )

    assert response.status_code == 200
    [message] = _messages(spontaneous["id"])
    assert message.kind == "job_proposed"
    assert message.context["job_title"] == "Bibliothécaire"
    assert message.context["job_reference"] == "BIB-1"
    assert "/c/" in message.context["link"]
    assert "job_proposed" in _actions(client, hr, spontaneous["id"])

    closed = build.job(status="closed")
    refused = client.post(
        f"/api/v1/applications/{spontaneous['id']}/propose-job",
        json={"job_id": closed["id"]},
        headers=hr,
    )
    assert refused.status_code == 409
    assert refused.json()["state"] == "closed"


def test_propose_a_job_already_applied_to_is_409(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job()
    application = build.application(job)
    response = client.post(
        f"/api/v1/applications/{application['id']}/propose-job",
        json={"job_id": job["id"]},
        headers=hr,
    )
    assert response.status_code == 409


def test_notes_are_for_hr_and_history_keeps_no_text(
    client: Any, build: Any, hr: dict[str, str], api_key: Any
) -> None:
    application = build.application()
    path = f"/api/v1/applications/{application['id']}/notes"
    created = client.post(path, json={"text": "Très bon profil, à rappeler."}, headers=hr)
    assert created.status_code == 201
    assert created.json()["author"] == "hr:hr-tester"
    assert [n["text"] for n in client.get(path, headers=hr).json()["items"]] == [
        "Très bon profil, à rappeler."
    ]
    viewer = api_key("viewer")
    assert client.get(path, headers=viewer).status_code == 403
    history = client.get(f"/api/v1/applications/{application['id']}/history", headers=viewer)
    assert "rappeler" not in history.text
    assert history.json()["items"][-1]["action"] == "note_added"


def test_unavailable_until_a_date_then_available(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    application = build.application()
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    path = f"/api/v1/applications/{application['id']}"
    marked = client.post(
        f"{path}/mark-unavailable", json={"until": until, "reason": "à l'étranger"}, headers=hr
    )
    assert marked.status_code == 200
    assert marked.json()["status"] == "unavailable"
    assert marked.json()["unavailable_until"] is not None
    assert client.post(f"{path}/validate", headers=hr).json()["state"] == "unavailable"

    back = client.post(f"{path}/mark-available", headers=hr)
    assert back.status_code == 200
    assert back.json()["status"] == "submitted"
    assert back.json()["unavailable_until"] is None
    again = client.post(f"{path}/mark-available", headers=hr)
    assert again.status_code == 409 and again.json()["state"] == "submitted"
    assert _actions(client, hr, application["id"])[-2:] == [
        "marked_unavailable",
        "marked_available",
    ]


def test_unavailable_until_the_past_is_refused(client: Any, build: Any, hr: dict[str, str]) -> None:
    application = build.application()
    response = client.post(
        f"/api/v1/applications/{application['id']}/mark-unavailable",
        json={"until": "2020-01-01T00:00:00+01:00"},
        headers=hr,
    )
    assert response.status_code == 422


def test_cv_upload_replace_and_download(client: Any, build: Any, hr: dict[str, str]) -> None:
    application = build.application()
    path = f"/api/v1/applications/{application['id']}/cv"
    assert client.get(path, headers=hr).status_code == 404

    uploaded = client.post(
        path, files={"file": ("../../etc/cv.pdf", PDF, "text/plain")}, headers=hr
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["content_type"] == "application/pdf", "by content, not by claim"
    assert uploaded.json()["filename"] == "cv.pdf"

    docx = _docx()
    replaced = client.post(
        path, files={"file": ("cv.docx", docx, "application/octet-stream")}, headers=hr
    )
    assert replaced.status_code == 201
    download = client.get(path, headers=hr)
    assert download.status_code == 200
    assert download.content == docx
    assert download.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert "attachment" in download.headers["content-disposition"]
    assert download.headers["x-content-type-options"] == "nosniff"
    assert _actions(client, hr, application["id"])[-2:] == ["cv_uploaded", "cv_replaced"]
    with session_scope() as session:
        tokens = session.scalars(select(CandidateToken)).all()
        assert tokens == []


def test_cv_type_and_size_are_checked(
    client: Any, build: Any, hr: dict[str, str], monkeypatch: Any
) -> None:
    application = build.application()
    path = f"/api/v1/applications/{application['id']}/cv"
    script = ("cv.pdf", b"<script>alert(1)</script>", "application/pdf")
    refused = client.post(path, files={"file": script}, headers=hr)
    assert refused.status_code == 415
    assert refused.headers["content-type"].startswith("application/problem+json")

    monkeypatch.setenv("MAX_UPLOAD_MB", "0.001")
    from shared.settings import get_settings

    get_settings.cache_clear()
    try:
        big = client.post(path, files={"file": ("cv.pdf", PDF + b"0" * 2000, "x")}, headers=hr)
    finally:
        monkeypatch.delenv("MAX_UPLOAD_MB")
        get_settings.cache_clear()
    assert big.status_code == 413


def test_files_are_stored_under_random_names(client: Any, build: Any, hr: Any) -> None:
    from shared.settings import get_settings

    application = build.application()
    client.post(
        f"/api/v1/applications/{application['id']}/cv",
        files={"file": ("mon cv.pdf", PDF, "application/pdf")},
        headers=hr,
    )
    stored = [p.name for p in get_settings().resolved_storage_dir.iterdir()]
    assert stored and all(len(name) == 64 and "cv" not in name for name in stored)


ODT = b"application/vnd.oasis.opendocument.text"


def _odt_bomb(inflated_mb: int) -> bytes:
    """An .odt whose `mimetype` entry inflates to `inflated_mb` MB (a few hundred KB zipped)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("mimetype", "w") as entry:
            entry.write(ODT)
            zeros = b"\0" * (1 << 20)
            for _ in range(inflated_mb):
                entry.write(zeros)
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def _odt_patched(*, flags: int = 0, method: int | None = None) -> bytes:
    """A small .odt whose `mimetype` entry claims other flags or another compression method."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("mimetype", ODT)
    data = bytearray(buffer.getvalue())
    central = data.index(b"PK\x01\x02")
    for at in (6, central + 8):  # general purpose flags: local header, central directory
        data[at] |= flags
    if method is not None:
        for at in (8, central + 10):
            data[at : at + 2] = method.to_bytes(2, "little")
    return bytes(data)


def test_an_odt_zip_bomb_is_read_bounded(client: Any, build: Any, hr: dict[str, str]) -> None:
    application = build.application()
    path = f"/api/v1/applications/{application['id']}/cv"
    bomb = _odt_bomb(100)
    assert len(bomb) < 1 << 20
    tracemalloc.start()
    try:
        answer = client.post(path, files={"file": ("cv.odt", bomb, "x")}, headers=hr)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 415, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert peak < 30 << 20, f"checking a 1 MB upload took {peak >> 20} MB"
    fine = client.post(path, files={"file": ("cv.odt", _odt_patched(), "x")}, headers=hr)
    assert fine.status_code == 201, fine.text


@pytest.mark.parametrize(
    "odt", [_odt_patched(flags=0x1), _odt_patched(method=99)], ids=["encrypted", "unknown-method"]
)
def test_an_odd_zip_entry_is_refused_not_a_500(
    client: Any, build: Any, hr: dict[str, str], odt: bytes
) -> None:
    application = build.application()
    answer = client.post(
        f"/api/v1/applications/{application['id']}/cv",
        files={"file": ("cv.odt", odt, "x")},
        headers=hr,
    )
    assert answer.status_code == 415, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_messages_never_show_a_link_id(
    client: Any, build: Any, hr: dict[str, str], api_key: Any
) -> None:
    from sqlalchemy import update

    candidate = build.candidate()
    spontaneous = client.post(
        "/api/v1/applications",
        json={"kind": "spontaneous", "candidate_id": candidate["id"]},
        headers=hr,
    ).json()
    job = build.job(reference="LINK-1")
    proposed = client.post(
        f"/api/v1/applications/{spontaneous['id']}/propose-job",
        json={"job_id": job["id"]},
        headers=hr,
    )
    assert proposed.status_code == 200, proposed.text
    with session_scope() as session:
        [token_id] = session.scalars(select(CandidateToken.id)).all()
    path = f"/api/v1/messages?application_id={spontaneous['id']}"
    for reader in (api_key("viewer"), hr):
        shown = client.get(path, headers=reader)
        assert shown.status_code == 200
        [item] = shown.json()["items"]
        assert item["idempotency_key"].startswith("job_proposed:")
        assert str(token_id) not in shown.text

    # A row written before the fix, whose key was the link's id, is shown without it.
    with session_scope() as session:
        session.execute(update(Message).values(idempotency_key=f"job_proposed:{token_id}"))
    shown = client.get(path, headers=api_key("viewer"))
    assert str(token_id) not in shown.text
    assert shown.json()["items"][0]["idempotency_key"] == "job_proposed:link-id-hidden"
