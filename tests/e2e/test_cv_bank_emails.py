"""The CV bank and dossier actions through HTTP and the real workers, down to the emails a
candidate receives and the pages their links open."""

import re
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.slice import post
from tests.mailbox import Mailbox, Received
from tests.stack import Stack

pytestmark = pytest.mark.e2e
# A candidate link (the footer's /c/privacy/ link, the same in every email, is not one).
LINK = re.compile(r"https?://\S+/c/(?!privacy/)[A-Za-z0-9_.\-]+")


def _hr(stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=stack.base_url, headers=stack.create_api_key(), timeout=30)


def _text(received: Received) -> str:
    body = received.message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _application(http: httpx.Client, job: dict[str, Any] | None, language: str = "fr") -> Any:
    address = f"{uuid.uuid4().hex[:10]}@example.org"
    body: dict[str, Any] = {
        "kind": "specific" if job else "spontaneous",
        "candidate": {
            "first_name": "Inès",
            "last_name": "Lambert",
            "email": address,
            "language": language,
        },
    }
    if job:
        body["job_id"] = job["id"]
    return post(http, "/applications", body), address


def _job(http: httpx.Client, title: str = "Comptable") -> dict[str, Any]:
    return post(
        http, "/jobs", {"title": title, "reference": f"J-{uuid.uuid4().hex[:8]}", "year": 2027}
    )


def _actions(http: httpx.Client, application_id: str) -> list[str]:
    items = http.get(f"/api/v1/applications/{application_id}/history").json()["items"]
    return [e["action"] for e in items]


def test_request_changes_email_page_and_resubmission(stack: Stack, mailbox: Mailbox) -> None:
    http = _hr(stack)
    application, address = _application(http, _job(http))
    post(
        http,
        f"/applications/{application['id']}/request-changes",
        {"message": "Merci de joindre votre diplôme."},
    )

    [email] = mailbox.wait_for(1, where=lambda m: m.rcpt_tos == [address], timeout=60)
    text = _text(email)
    assert "Merci de joindre votre diplôme." in text
    [link] = LINK.findall(text)
    assert "Complétez votre candidature" in httpx.get(link).text
    done = httpx.post(link, data={"action": "update_application", "cover_letter": "Diplôme joint"})
    assert done.status_code == 200
    assert http.get(f"/api/v1/applications/{application['id']}").json()["status"] == "resubmitted"
    assert _actions(http, application["id"])[-3:] == [
        "changes_requested",
        "email_queued:changes_requested",
        "application_resubmitted",
    ]


def test_proposed_job_email_and_application(stack: Stack, mailbox: Mailbox) -> None:
    http = _hr(stack)
    application, address = _application(http, None, language="nl")
    job = _job(http, title="Bibliothecaris")
    post(http, f"/applications/{application['id']}/propose-job", {"job_id": job["id"]})

    [email] = mailbox.wait_for(1, where=lambda m: m.rcpt_tos == [address], timeout=60)
    assert "Bibliothecaris" in _text(email)
    [link] = LINK.findall(_text(email))
    assert httpx.post(link, data={"action": "apply_to_job"}).status_code == 200
    created = http.get(f"/api/v1/applications?job_id={job['id']}").json()["items"]
    assert [a["proposed_by_application_id"] for a in created] == [application["id"]]
    assert "job_proposed" in _actions(http, application["id"])


def test_rejection_and_messages_reach_the_candidates(stack: Stack, mailbox: Mailbox) -> None:
    http = _hr(stack)
    job = _job(http)
    (first, first_address), (second, second_address) = (
        _application(http, job),
        _application(http, job),
    )
    dossiers = [
        post(http, f"/applications/{a['id']}/validate")["dossier_id"] for a in (first, second)
    ]

    post(
        http,
        "/messages",
        {
            "dossier_ids": dossiers,
            "subject": "Séance d'information",
            "body": "Rendez-vous le 3 mars.",
        },
    )
    for address in (first_address, second_address):
        [email] = mailbox.wait_for(
            1,
            where=lambda m, a=address: (
                m.rcpt_tos == [a] and "information" in str(m.message["Subject"])
            ),
            timeout=60,
        )
        assert "Rendez-vous le 3 mars." in _text(email)

    post(
        http,
        f"/dossiers/{dossiers[0]}/reject",
        {"reason": "Diplôme requis manquant", "notify": True},
    )
    post(http, "/messages", {"dossier_ids": [dossiers[1]], "template": "not_retained"})
    rejected = mailbox.wait_for(
        1,
        where=lambda m: m.rcpt_tos == [first_address] and "Diplôme requis manquant" in _text(m),
        timeout=60,
    )
    assert rejected
    templated = mailbox.wait_for(3, where=lambda m: m.rcpt_tos == [second_address], timeout=60)
    assert len(templated) == 3  # validation, the written message and the template
    history = http.get(f"/api/v1/dossiers/{dossiers[0]}/history").json()["items"]
    assert "dossier_rejected" in [e["action"] for e in history]
