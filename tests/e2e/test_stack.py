"""End to end: HTTP decisions become emails and calendar invitations, through real processes."""

import uuid

import httpx
import pytest

from tests.e2e.slice import (
    apply_and_validate,
    assert_invitation,
    assert_validation_email,
    invite_to_written_trial,
    post,
    wait_for_statuses,
)
from tests.mailbox import Mailbox, free_port
from tests.stack import Stack, wait_until_healthy

pytestmark = pytest.mark.e2e


def test_validation_and_invitation_reach_the_candidate(stack: Stack, mailbox: Mailbox) -> None:
    http = httpx.Client(base_url=stack.base_url, headers=stack.create_api_key("hr"), timeout=10)
    job_id, dossier_id = apply_and_validate(http, "elise@example.org", "E2E-1")

    [validated] = mailbox.wait_for(1)
    assert validated.rcpt_tos == ["elise@example.org"]
    assert_validation_email(validated.message)

    participation_id = invite_to_written_trial(http, job_id, dossier_id)

    [invitation] = mailbox.wait_for(1, where=lambda m: "Convocation" in str(m.message["Subject"]))
    assert invitation.rcpt_tos == ["elise@example.org"]
    assert_invitation(invitation.message, participation_id, "elise@example.org")
    assert str(invitation.message["From"]) == "Service RH <rh@commune.example>"

    messages = wait_for_statuses(http, dossier_id, {"sent"}, count=2)
    assert {m["kind"] for m in messages} == {"application_validated", "trial_invitation"}
    assert all(m["attempts"] == 1 and m["last_response"].startswith("250") for m in messages)
    assert len(mailbox.messages) == 2, "each email once"


def test_publish_failure_after_commit_is_relayed(stack: Stack, mailbox: Mailbox) -> None:
    """The API commits, then cannot reach the broker: beat's relay publishes it later."""
    dead_port = free_port()  # nothing listens there: the broker is down for this API process
    api_port = free_port()
    stack.start(
        "api-broker-down",
        "api",
        "--port",
        str(api_port),
        env={"BROKER_URL": f"redis://127.0.0.1:{dead_port}/0"},
    )
    base = f"http://127.0.0.1:{api_port}"
    wait_until_healthy(base, stack)
    http = httpx.Client(base_url=base, headers=stack.create_api_key("hr"), timeout=10)

    ready = http.get("/readyz")
    assert ready.status_code == 503
    assert "broker" in ready.json()["checks"]

    job = post(
        http, "/jobs", {"title": "Archiviste", "reference": f"E2E-{uuid.uuid4()}", "year": 2026}
    )
    application = post(
        http,
        "/applications",
        {
            "kind": "specific",
            "job_id": job["id"],
            "candidate": {"first_name": "Lotte", "last_name": "Maes", "email": "lotte@example.be"},
        },
    )
    validated = post(http, f"/applications/{application['id']}/validate")
    assert validated["status"] == "validated", (
        "the decision is committed although the broker is down"
    )

    try:
        [received] = mailbox.wait_for(1, timeout=60)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{stack.log_tails()}") from None
    assert received.rcpt_tos == ["lotte@example.be"]
    wait_for_statuses(http, validated["dossier_id"], {"sent"}, count=1)
    assert len(mailbox.messages) == 1


def test_readyz_with_the_real_services(stack: Stack) -> None:
    response = httpx.get(f"{stack.base_url}/readyz", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}
    metrics = httpx.get(f"{stack.base_url}/metrics", timeout=10)
    assert "recrue_http_requests_total" in metrics.text
