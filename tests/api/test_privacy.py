"""A person's data, provably: the export holds everything, the erasure leaves nothing.

One candidate is seeded through every path (applications, a CV, an attachment, notes, a trial
with a postponement of their own, an answer through the calendar read from the HR mailbox, a
result with a comment, the board's decision, emails built and sent by the real scheduler and
notifier code, answers kept for Idempotency-Keys), then
erased; the whole database (every table the database has, every column, read raw) and the
storage folder are searched for their name, email, phone and file contents.
"""

import email
import email.policy
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, select, text

from services.notifier.delivery import deliver
from services.scheduler.invitations import send_calendars
from shared import replies
from shared.db import get_engine, session_scope
from shared.models import Message, OutboxEvent
from shared.settings import get_settings
from shared.tasks import SEND_CALENDARS, SendCalendars
from tests.builders import Builders
from tests.itip import Answer, email_of

FIRST, LAST = "Zéphyrine", "Quatremaire"
EMAIL, PHONE = "zephyrine.q@example.org", "+32 470 99 88 77"
CV = b"%PDF-1.4\n% CV-OF-THE-PERSON-5521 diplome de droit\n%%EOF\n"
ATTACHMENT = b"%PDF-1.4\n% ATTESTATION-OF-THE-PERSON-8830\n%%EOF\n"
# What must not be found anywhere once the person is erased (compared in lower case).
TRACES = (FIRST, "zephyrine", LAST, EMAIL, PHONE, "470 99 88 77", "CV-OF-THE-PERSON-5521")
TRACES += ("ATTESTATION-OF-THE-PERSON-8830",)


@dataclass
class Seeded:
    candidate: dict[str, Any]
    other: dict[str, Any]
    spontaneous: dict[str, Any]
    application: dict[str, Any]
    dossier: dict[str, Any]
    trial: dict[str, Any]


def _run_workers() -> None:
    """What the scheduler and the notifier do with the queued events: build each calendar
    email, then send every waiting email (to the embedded sink)."""
    with session_scope() as session:
        events = session.execute(
            select(OutboxEvent.id, OutboxEvent.payload).where(
                OutboxEvent.task_name == SEND_CALENDARS, OutboxEvent.done_at.is_(None)
            )
        ).all()
    for event_id, payload in events:
        send_calendars(
            SendCalendars.model_validate(payload), publish=lambda _: None, event_id=event_id
        )
    with session_scope() as session:
        waiting = list(session.scalars(select(Message.id).where(Message.status == "queued")))
    assert deliver(waiting) == []


def _post(client: Any, path: str, hr: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    answer = client.post(f"/api/v1{path}", headers=hr, **kwargs)
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


def _seed(client: Any, build: Builders, hr: dict[str, str]) -> Seeded:
    job = build.job()
    person = build.candidate(first_name=FIRST, last_name=LAST, email=EMAIL, phone=PHONE)
    other = build.candidate()
    about = f"{FIRST} {LAST} ({EMAIL}, {PHONE})"
    keyed = hr | {"Idempotency-Key": f"privacy-{uuid.uuid4()}"}
    spontaneous = _post(
        client,
        "/applications",
        keyed,
        json={"kind": "spontaneous", "candidate_id": person["id"], "cover_letter": about},
    )
    _post(
        client,
        f"/applications/{spontaneous['id']}/request-changes",
        hr,
        json={"message": f"{FIRST}, merci de joindre votre diplôme."},
    )
    application = build.application(job, candidate=person, cover_letter=f"Je suis {about}.")
    _post(
        client,
        f"/applications/{application['id']}/cv",
        hr,
        files={"file": (f"cv-{LAST}.pdf", CV, "application/pdf")},
    )
    _post(
        client,
        f"/applications/{application['id']}/notes",
        keyed | {"Idempotency-Key": f"note-{uuid.uuid4()}"},
        json={"text": f"Appel de {about}"},
    )
    dossier_id = _post(client, f"/applications/{application['id']}/validate", hr)["dossier_id"]
    dossier = dict(client.get(f"/api/v1/dossiers/{dossier_id}", headers=hr).json())
    rival = build.dossier(job, candidate=other)
    _post(client, f"/dossiers/{dossier_id}/notes", hr, json={"text": f"{LAST} très motivée"})
    _post(
        client,
        f"/dossiers/{dossier_id}/attachments",
        hr,
        files={"file": (f"attestation-{LAST}.pdf", ATTACHMENT, "application/pdf")},
    )
    trial = build.written_trial(job, pass_score="10")
    build.invite(trial, dossier, rival)
    items = client.get(f"/api/v1/trials/{trial['id']}/participations", headers=hr).json()
    mine = next(p["id"] for p in items["items"] if p["dossier_id"] == dossier_id)
    _post(
        client,
        f"/participations/{mine}/postpone",
        hr,
        json={"starts_at": "2027-03-29T10:00:00+02:00", "reason": f"Demande de {FIRST} {LAST}"},
    )
    _run_workers()
    # An answer through the calendar, read from the HR mailbox, with a comment about them.
    items = client.get(f"/api/v1/trials/{trial['id']}/participations", headers=hr).json()
    sequence = next(p["sequence"] for p in items["items"] if p["id"] == mine)
    answer = Answer(
        uid=f"{mine}@recrue",
        sequence=sequence,
        email=EMAIL,
        name=f"{FIRST} {LAST}",
        partstat="TENTATIVE",
        comment=f"{FIRST} {LAST} sera peut-être en retard",
    )
    assert replies.ingest(email_of(answer, "gmail"), publish=lambda _: None) == "tentative"
    build.took_place(trial)
    theirs = next(p["id"] for p in items["items"] if p["dossier_id"] == rival["id"])
    for pid, score, comment in ((mine, "15", f"{LAST} excellente"), (theirs, "17", "bien")):
        body = {"present": True, "score": score, "comment": comment, "communicate": True}
        _post(client, f"/participations/{pid}/result", hr, json=body)
    for some in (dossier_id, rival["id"]):
        _post(client, f"/dossiers/{some}/global-score", hr, json={})
    decision = {
        "decided_on": "2027-04-02",
        "reference": "COLL-PRIV-1",
        "retained_dossier_id": rival["id"],
        "reserve": [dossier_id],
    }
    _post(client, f"/jobs/{job['id']}/deliberation", hr, json=decision)
    _run_workers()
    return Seeded(person, other, spontaneous, application, dossier, trial)


def _database_text() -> str:
    """Every value of every column of every table the database has (not only those the
    models know), as text: JSON and binary included."""
    engine = get_engine()
    parts: list[str] = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            quoted = engine.dialect.identifier_preparer.quote(table)
            for row in connection.execute(text(f"SELECT * FROM {quoted}")):  # noqa: S608
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("utf-8", "replace")
                    elif isinstance(value, dict | list):
                        value = json.dumps(value, ensure_ascii=False)
                    parts.append(f"{table}: {value}")
    return "\n".join(parts).lower()


def _storage_text() -> str:
    folder = get_settings().resolved_storage_dir
    if not folder.exists():
        return ""
    files = (path for path in folder.rglob("*") if path.is_file())
    return "\n".join(path.read_bytes().decode("utf-8", "replace") for path in files).lower()


def _found(haystack: str) -> list[str]:
    return [trace for trace in TRACES if trace.lower() in haystack]


def test_an_erased_person_leaves_no_trace(client: Any, build: Builders, hr: dict[str, str]) -> None:
    seeded = _seed(client, build, hr)
    stats_before = client.get("/api/v1/stats", headers=hr).json()
    assert _found(_database_text()) == list(TRACES[:6]), "the seeding wrote every trace"
    assert _found(_storage_text()) == list(TRACES[6:]), "and stored both files"

    erased = client.post(
        f"/api/v1/candidates/{seeded.candidate['id']}/erase",
        json={"reason": "consent_withdrawn"},
        headers=hr,
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["anonymised_at"] is not None
    assert erased.json()["first_name"] != FIRST

    dump = _database_text()
    assert _found(dump) == []
    assert _found(_storage_text()) == []
    assert seeded.other["email"] in dump, "the others' data stays"
    assert client.get("/api/v1/stats", headers=hr).json() == stats_before

    history = client.get(f"/api/v1/dossiers/{seeded.dossier['id']}/history", headers=hr).json()
    assert [e["action"] for e in history["items"]][-1] == "anonymised"
    assert history["items"][-1]["after"]["reason"] == "consent_withdrawn"
    dossier = client.get(f"/api/v1/dossiers/{seeded.dossier['id']}", headers=hr).json()
    assert dossier["status"] == "reserve" and dossier["global_score"] is not None
    again = client.post(
        f"/api/v1/candidates/{seeded.candidate['id']}/erase",
        json={"reason": "consent_withdrawn"},
        headers=hr,
    )
    assert again.status_code == 409 and again.json()["state"] == "anonymised"
    path = f"/api/v1/candidates/{seeded.candidate['id']}"
    for refused in (
        client.patch(path, json={}, headers=hr),
        client.get(f"{path}/export", headers=hr),
        client.post(
            "/api/v1/applications",
            json={"kind": "spontaneous", "candidate_id": seeded.candidate["id"]},
            headers=hr,
        ),
    ):
        assert refused.status_code == 409 and refused.json()["state"] == "anonymised"
    with session_scope() as session:
        message = session.scalars(
            select(Message).where(Message.candidate_id == uuid.UUID(seeded.candidate["id"]))
        ).first()
        assert message is not None
        message.status = "failed"
    resent = client.post(f"/api/v1/messages/{message.id}/resend", headers=hr)
    assert resent.status_code == 409 and resent.json()["state"] == "anonymised"


def test_the_export_holds_every_item(client: Any, build: Builders, hr: dict[str, str]) -> None:
    seeded = _seed(client, build, hr)
    answer = client.get(
        f"/api/v1/candidates/{seeded.candidate['id']}/export?include_notes=true", headers=hr
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    person = json.loads(archive.read("person.json"))

    assert person["candidate"]["email"] == EMAIL and person["candidate"]["phone"] == PHONE
    assert {a["id"] for a in person["applications"]} == {
        seeded.spontaneous["id"],
        seeded.application["id"],
    }
    [dossier] = [a["dossier"] for a in person["applications"] if a["dossier"]]
    assert dossier["status"] == "reserve" and dossier["reserve_rank"] == 1
    [taken] = dossier["participations"]
    assert taken["trial"] == seeded.trial["title"]
    assert taken["result"]["score"] == "15.00" and taken["result"]["passed"] is True
    with session_scope() as session:
        sent = session.execute(
            select(Message.kind, Message.subject).where(
                Message.candidate_id == uuid.UUID(seeded.candidate["id"])
            )
        ).all()
    assert sorted((m["kind"], m["subject"]) for m in person["messages"]) == sorted(sent)
    assert {"changes_requested", "application_validated", "postponement", "result"} <= {
        kind for kind, _ in sent
    }
    actions = {e["action"] for e in person["history"]}
    assert {
        "application_submitted",
        "participation_postponed",
        "calendar_reply_tentative",
        "result_recorded",
    } <= actions
    written = json.dumps(person["history"], ensure_ascii=False)
    assert all(t in written for t in ("Demande de", "merci de joindre")), "HR texts, asked for"
    assert sorted(n["text"] for n in person["notes"]) == sorted(
        [f"Appel de {FIRST} {LAST} ({EMAIL}, {PHONE})", f"{LAST} très motivée"]
    )
    files = {f["filename"]: archive.read(f["name"]) for f in person["files"]}
    assert files == {f"cv-{LAST}.pdf": CV, f"attestation-{LAST}.pdf": ATTACHMENT}

    history = client.get(f"/api/v1/applications/{seeded.application['id']}/history", headers=hr)
    [exported] = [e for e in history.json()["items"] if e["action"] == "exported"]
    assert exported["actor"] == "hr:hr-tester" and exported["after"] == {"include_notes": True}

    without = client.get(f"/api/v1/candidates/{seeded.candidate['id']}/export", headers=hr)
    plain = json.loads(zipfile.ZipFile(io.BytesIO(without.content)).read("person.json"))
    assert "notes" not in plain
    internal = ("Demande de", "excellente", "merci de joindre")
    assert [t for t in internal if t in json.dumps(plain["history"], ensure_ascii=False)] == []


def test_a_legal_hold_or_the_personnel_file_refuses_the_erasure(
    client: Any, build: Builders, hr: dict[str, str]
) -> None:
    dossier = build.dossier()
    candidate_id = dossier["candidate"]["id"]
    path = f"/api/v1/dossiers/{dossier['id']}/legal-hold"
    assert client.delete(path, headers=hr).json()["state"] == "not_held"
    held = client.post(path, json={"reason": "recours au Conseil d'État"}, headers=hr)
    assert held.status_code == 200 and held.json()["legal_hold_since"] is not None
    refused = client.post(
        f"/api/v1/candidates/{candidate_id}/erase", json={"reason": "objection"}, headers=hr
    )
    assert refused.status_code == 409
    assert refused.json()["state"] == "legal_hold"
    assert "recours au Conseil d'État" in refused.json()["detail"]
    lifted = client.delete(path, headers=hr)
    assert lifted.status_code == 200 and lifted.json()["legal_hold_since"] is None
    actions = [
        e["action"]
        for e in client.get(f"/api/v1/dossiers/{dossier['id']}/history", headers=hr).json()["items"]
    ]
    assert actions[-2:] == ["legal_hold_placed", "legal_hold_lifted"]

    from shared.models import Dossier

    with session_scope() as session:
        row = session.get(Dossier, uuid.UUID(dossier["id"]))
        assert row is not None
        row.status = "hired"
    refused = client.post(
        f"/api/v1/candidates/{candidate_id}/erase", json={"reason": "objection"}, headers=hr
    )
    assert refused.status_code == 409 and refused.json()["state"] == "personnel_file"
    kept = client.get(f"/api/v1/candidates/{candidate_id}", headers=hr).json()
    assert kept["anonymised_at"] is None


def _delivered_to(address: str) -> list[str]:
    """The plain texts of the emails the embedded sink wrote for `address`."""
    texts = []
    for path in sorted(get_settings().resolved_mail_dir.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in str(message["To"]):
            body = message.get_body(preferencelist=("plain",))
            assert body is not None
            texts.append(body.get_content())
    return texts


def test_every_email_links_to_a_page_where_the_candidate_asks(
    client: Any, build: Builders, hr: dict[str, str]
) -> None:
    candidate = build.candidate(email=f"asks-{uuid.uuid4().hex[:8]}@example.org")
    dossier_id = build.dossier(candidate=candidate)["id"]
    _post(client, f"/dossiers/{dossier_id}/reject", hr, json={"reason": "diplôme", "notify": True})
    _run_workers()
    texts = _delivered_to(candidate["email"])
    assert len(texts) == 2
    footers = {re.search(r"http\S+/c/privacy/\S+", t).group(0) for t in texts}  # type: ignore[union-attr]
    assert len(footers) == 1, "one link per person, in every email"
    page = footers.pop().removeprefix("http://127.0.0.1:8000")
    shown = client.get(page)
    assert shown.status_code == 200 and candidate["last_name"] in shown.text
    for request in ("export", "erasure"):
        done = client.post(page, data={"action": "privacy_request", "answer": request})
        assert done.status_code == 200
    notices = client.get("/api/v1/notices", headers=hr).json()["items"]
    asked = [(n["action"], n["after"]["request"], n["dossier_id"]) for n in notices]
    assert asked == [
        ("privacy_request", "erasure", dossier_id),
        ("privacy_request", "export", dossier_id),
    ]
    assert client.get(page[:-3] + "abc").status_code == 404, "a tampered link"
    client.post(
        f"/api/v1/candidates/{candidate['id']}/erase", json={"reason": "objection"}, headers=hr
    )
    assert client.get(page).status_code == 404, "the link ends with the person"
