"""The whole story through HTTP and the real workers: five candidates, a written and an oral
trial, results, global scores, the board's decision with a reserve of two, a decline, the next
of the reserve accepts, starts, and later leaves."""

import re
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.builders import took_place
from tests.e2e.slice import post, wait_for_statuses
from tests.mailbox import Mailbox
from tests.stack import Stack

pytestmark = pytest.mark.e2e
OFFER_LINK = re.compile(r"https?://\S+/c/[A-Za-z0-9_.\-]+\?answer=(?:accept|decline)")


def _in_order(actions: list[str], expected: list[str]) -> bool:
    position = 0
    for action in actions:
        if position < len(expected) and action == expected[position]:
            position += 1
    return position == len(expected)


def test_from_the_cv_bank_to_the_first_day_and_beyond(stack: Stack, mailbox: Mailbox) -> None:
    http = httpx.Client(base_url=stack.base_url, headers=stack.create_api_key(), timeout=30)
    run = uuid.uuid4().hex[:6]
    job = post(http, "/jobs", {"title": "Gestionnaire RH", "reference": f"RH-{run}", "year": 2027})
    people = [("Élise", "fr"), ("Jan", "nl"), ("Jürgen", "de"), ("Sofie", "nl"), ("Amélie", "fr")]
    dossiers = []
    for n, (first_name, language) in enumerate(people):
        application = post(
            http,
            "/applications",
            {
                "kind": "specific",
                "job_id": job["id"],
                "candidate": {
                    "first_name": first_name,
                    "last_name": f"Kandidaat{n}",
                    "email": f"seed{n}-{run}@example.org",
                    "language": language,
                },
            },
        )
        dossiers.append(post(http, f"/applications/{application['id']}/validate"))
    written = post(
        http,
        f"/jobs/{job['id']}/trials",
        {
            "kind": "written",
            "title": "Écrit",
            "starts_at": "2027-03-28T10:00:00+02:00",
            "duration_minutes": 120,
            "weight": "2",
            "max_score": "20",
            "pass_score": "10",
            "eliminatory": True,
        },
    )
    oral = post(
        http,
        f"/jobs/{job['id']}/trials",
        {
            "kind": "oral",
            "title": "Oral",
            "starts_at": "2027-04-06T14:00:00+02:00",
            "duration_minutes": 30,
            "weight": "1",
            "max_score": "10",
            "pass_score": "5",
        },
    )
    for trial in (written, oral):
        post(http, f"/trials/{trial['id']}/invitations", {"all_eligible": True})
    # Every candidate accepts both invitations from their email; then the trials take place.
    for dossier in dossiers:
        wait_for_statuses(http, dossier["dossier_id"], {"sent"}, count=3, timeout=60)
    for dossier in dossiers:
        address = dossier["candidate"]["email"]
        invitations = [m for m in mailbox.messages if m.rcpt_tos == [address] and _is_offer(m)]
        assert len(invitations) == 2
        for invitation in invitations:
            accept = next(link for link in _offer_links(invitation) if link.endswith("accept"))
            answer = httpx.post(
                accept.split("?")[0], data={"action": "answer_invitation", "answer": "accept"}
            )
            assert answer.status_code == 200, answer.text
    for trial in (written, oral):
        took_place(trial["id"])

    scores = [("18", "9"), ("17", "8"), ("16", "8"), ("13", "6"), ("12", "5")]
    for trial, column in ((written, 0), (oral, 1)):
        participations = {
            p["dossier_id"]: p["id"]
            for p in http.get(f"/api/v1/trials/{trial['id']}/participations").json()["items"]
        }
        for dossier, score in zip(dossiers, scores, strict=True):
            post(
                http,
                f"/participations/{participations[dossier['dossier_id']]}/result",
                {"present": True, "score": score[column]},
            )
    for dossier in dossiers:
        post(http, f"/dossiers/{dossier['dossier_id']}/global-score", {})
    ranking = http.get(f"/api/v1/jobs/{job['id']}/shortlist").json()["items"]
    ids = [d["dossier_id"] for d in dossiers]
    assert [r["dossier_id"] for r in ranking] == ids

    before = len(mailbox.messages)  # the offers below are the newest emails with answer links
    post(
        http,
        f"/jobs/{job['id']}/deliberation",
        {
            "decided_on": "2027-04-20",
            "reference": "COLL-7",
            "retained_dossier_id": ids[0],
            "reserve": [ids[1], ids[2]],
            "notify_not_retained": True,
        },
    )
    first, second = (d["candidate"]["email"] for d in dossiers[:2])

    def newer(address: str) -> Any:
        return lambda m: m.rcpt_tos == [address] and m in mailbox.messages[before:] and _is_offer(m)

    [offer] = mailbox.wait_for(1, where=newer(first), timeout=60)
    decline = next(link for link in _offer_links(offer) if link.endswith("decline"))
    assert httpx.get(decline).status_code == 200
    declined = httpx.post(
        decline.split("?")[0], data={"action": "answer_offer", "answer": "decline"}
    )
    assert declined.status_code == 200

    [next_offer] = mailbox.wait_for(1, where=newer(second), timeout=60)
    accept = next(link for link in _offer_links(next_offer) if link.endswith("accept"))
    httpx.post(accept.split("?")[0], data={"action": "answer_offer", "answer": "accept"})
    post(http, f"/dossiers/{ids[1]}/hire", {"started_on": "2027-06-01"})
    post(http, f"/dossiers/{ids[1]}/left", {"left_on": "2028-03-31", "reason": "mutation"})

    statuses = [http.get(f"/api/v1/dossiers/{i}").json()["status"] for i in ids]
    assert statuses == ["offer_declined", "left", "reserve", "not_retained", "not_retained"]

    expected = {
        ids[0]: {"application_validated": 1, "trial_invitation": 2, "offer_confirmation": 1},
        ids[1]: {
            "application_validated": 1,
            "trial_invitation": 2,
            "next_of_reserve_offer": 1,
            "welcome": 1,
        },
        ids[2]: {"application_validated": 1, "trial_invitation": 2},
        ids[3]: {"application_validated": 1, "trial_invitation": 2, "not_retained": 1},
        ids[4]: {"application_validated": 1, "trial_invitation": 2, "not_retained": 1},
    }
    for dossier in dossiers:
        dossier_id = dossier["dossier_id"]
        total = sum(expected[dossier_id].values())
        messages = wait_for_statuses(http, dossier_id, {"sent"}, count=total, timeout=60)
        assert Counter(m["kind"] for m in messages) == expected[dossier_id]
        address = dossier["candidate"]["email"]
        time.sleep(0.2)
        assert len([m for m in mailbox.messages if m.rcpt_tos == [address]]) == total, "once each"

    story = [e["action"] for e in http.get(f"/api/v1/dossiers/{ids[1]}/history").json()["items"]]
    assert _in_order(
        story,
        [
            "application_submitted",
            "application_validated",
            "invited_to_trial",
            "invited_to_trial",
            "invitation_accepted",
            "invitation_accepted",
            "result_recorded",
            "result_recorded",
            "global_score_set",
            "deliberation_reserve",
            "retained_from_reserve",
            "offer_accepted",
            "hired",
            "left",
        ],
    ), story
    declined = [e["action"] for e in http.get(f"/api/v1/dossiers/{ids[0]}/history").json()["items"]]
    assert _in_order(declined, ["global_score_set", "deliberation_retained", "offer_declined"])


def _is_offer(received: Any) -> bool:
    return bool(_offer_links(received))


def _offer_links(received: Any) -> list[str]:
    body = received.message.get_body(("plain",))
    return list(OFFER_LINK.findall(body.get_content())) if body is not None else []
