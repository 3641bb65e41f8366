"""Every way a participation ends sends METHOD:CANCEL (same UID, a higher SEQUENCE) when the
candidate has its event in their calendar, so that no ended event stays there. Each CANCEL is
parsed by `icalendar` and by the strict `ical` package."""

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import icalendar
import pytest
from sqlalchemy import select, update

from services.scheduler.deadlines import expire_unanswered
from shared import dossiers, replies
from shared.db import session_scope
from shared.emails.texts import render
from shared.models import Dossier, Message, Participation, utcnow
from tests.itip import Answer, email_of
from tests.replies_flow import accepted_slot, invited, participation_of, run_calendars
from tests.shared.test_calendar_clients import only_event, strict_parse


def _no_publish(_: Any) -> None:
    """The events stay in the outbox: the test runs them."""


def _emails(dossier_id: str) -> list[Message]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(Message)
                .where(Message.dossier_id == uuid.UUID(dossier_id))
                .order_by(Message.created_at)
            )
        )


def _decline_link(dossier_id: str) -> str:
    invitation = next(m for m in _emails(dossier_id) if m.kind == "trial_invitation")
    link = str(invitation.context["decline_link"])
    return link[link.index("/c/") :].split("?")[0]


def _check_cancel(message: Message, p: dict[str, Any], sequence: int) -> None:
    assert message.calendar_method == "CANCEL"
    assert message.calendar_ics is not None
    parsed = icalendar.Calendar.from_ical(message.calendar_ics)
    assert str(parsed["METHOD"]) == "CANCEL"
    [event] = parsed.walk("VEVENT")
    assert str(event["UID"]) == f"{p['id']}@recrue"
    assert int(event["SEQUENCE"]) == sequence
    assert str(event["STATUS"]) == "CANCELLED"
    strict = only_event(strict_parse(message.calendar_ics))
    assert strict.uid == f"{p['id']}@recrue" and strict.sequence == sequence
    context = message.context | {"calendar_attached": True}  # as the notifier renders it
    subject, text, _ = render(message.kind, message.language, context)
    assert "retire l’événement de votre agenda" in text, text


def _link_decline(
    client: Any, hr: dict[str, str], d: dict[str, Any], c: dict[str, Any], p: Any
) -> str:
    page = client.post(
        _decline_link(d["id"]), data={"action": "answer_invitation", "answer": "decline"}
    )
    assert page.status_code == 200, page.text
    return "declined"


def _reply_decline(
    client: Any, hr: dict[str, str], d: dict[str, Any], c: dict[str, Any], p: Any
) -> str:
    answer = Answer(
        uid=f"{p['id']}@recrue",
        sequence=p["sequence"],
        email=c["email"],
        partstat="DECLINED",
    )
    assert replies.ingest(email_of(answer, "thunderbird"), publish=_no_publish).handled
    return "declined"


def _reject(client: Any, hr: dict[str, str], d: dict[str, Any], c: dict[str, Any], p: Any) -> str:
    done = client.post(f"/api/v1/dossiers/{d['id']}/reject", json={"reason": "Diplôme"}, headers=hr)
    assert done.status_code == 200, done.text
    return "cancelled"


def _withdraw(client: Any, hr: dict[str, str], d: dict[str, Any], c: dict[str, Any], p: Any) -> str:
    done = client.post(f"/api/v1/dossiers/{d['id']}/withdraw", json={}, headers=hr)
    assert done.status_code == 200, done.text
    return "cancelled"


def _fail(client: Any, hr: dict[str, str], d: dict[str, Any], c: dict[str, Any], p: Any) -> str:
    # A failed eliminatory trial (another one, already graded) fails the dossier.
    with session_scope() as session:
        dossier = session.get(Dossier, uuid.UUID(d["id"]))
        assert dossier is not None
        dossiers.move(session, dossier, "fail", actor="test", event="global_score_set")
    return "cancelled"


def _expire(client: Any, hr: dict[str, str], d: dict[str, Any], c: dict[str, Any], p: Any) -> str:
    with session_scope() as session:
        session.execute(
            update(Participation)
            .where(Participation.id == uuid.UUID(p["id"]))
            .values(response_deadline=utcnow() - timedelta(seconds=1))
        )
    assert expire_unanswered(publish=_no_publish) == 1
    return "expired"


def _cancel_trial(
    client: Any, hr: dict[str, str], d: dict[str, Any], c: dict[str, Any], p: Any
) -> str:
    done = client.post(f"/api/v1/trials/{p['trial_id']}/cancel", json={}, headers=hr)
    assert done.status_code == 200, done.text
    return "cancelled"


def _cancel_one(
    client: Any, hr: dict[str, str], d: dict[str, Any], c: dict[str, Any], p: Any
) -> str:
    done = client.post(f"/api/v1/participations/{p['id']}/cancel", json={}, headers=hr)
    assert done.status_code == 200, done.text
    return "cancelled"


ENDINGS: dict[str, Callable[..., str]] = {
    "declined through the link": _link_decline,
    "declined through a REPLY": _reply_decline,
    "expired at the deadline": _expire,
    "dossier rejected": _reject,
    "dossier withdrawn": _withdraw,
    "dossier failed": _fail,
    "trial cancelled": _cancel_trial,
    "participation cancelled": _cancel_one,
}
KINDS = {"expired at the deadline": "invitation_expired"}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_every_ending_sends_cancel(
    client: Any, build: Any, hr: dict[str, str], ending: str
) -> None:
    job, dossier, candidate, p = invited(build, client, hr)
    run_calendars()  # the invitation, with its METHOD:REQUEST

    status = ENDINGS[ending](client, hr, dossier, candidate, p)
    run_calendars()
    run_calendars()  # a block delivered twice sends one email

    assert participation_of(client, hr, p)["status"] == status
    kind = KINDS.get(ending, "cancellation")
    cancels = [m for m in _emails(dossier["id"]) if m.calendar_method == "CANCEL"]
    assert [m.kind for m in cancels] == [kind]
    _check_cancel(cancels[0], p, p["sequence"] + 1)


def test_a_declined_slot_is_cancelled_and_says_so(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    trial, dossier, candidate, p = accepted_slot(build, client, hr)
    answer = Answer(
        uid=f"{p['id']}@recrue",
        sequence=p["sequence"],
        email=candidate["email"],
        partstat="DECLINED",
    )
    replies.ingest(email_of(answer, "gmail"), publish=_no_publish)
    run_calendars()

    [cancel] = [m for m in _emails(dossier["id"]) if m.calendar_method == "CANCEL"]
    _check_cancel(cancel, p, p["sequence"] + 1)
    subject, text, _ = render(cancel.kind, cancel.language, cancel.context)
    assert subject.startswith("Absence confirmée")
    assert "vous ne participerez pas" in text and "suite de la procédure" not in text


def test_no_cancel_without_an_event_in_the_calendar(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    """A slot trial's invitation is a link to choose a slot: no event until one is booked."""
    job = build.job()
    dossier = build.dossier(job)
    body = {
        "kind": "oral",
        "title": "Oral",
        "response_deadline": "2027-06-01T12:00:00+02:00",
        "booking": {
            "slot_minutes": 30,
            "capacity": 1,
            "windows": [{"start": "2027-06-15T09:00:00+02:00", "end": "2027-06-15T10:00:00+02:00"}],
        },
    }
    trial = client.post(f"/api/v1/jobs/{job['id']}/trials", json=body, headers=hr).json()
    build.invite(trial, dossier)
    run_calendars()
    client.post(f"/api/v1/dossiers/{dossier['id']}/reject", json={"reason": "x"}, headers=hr)
    run_calendars()

    items = client.get(f"/api/v1/trials/{trial['id']}/participations", headers=hr).json()
    assert items["items"][0]["status"] == "cancelled"
    assert [m for m in _emails(dossier["id"]) if m.calendar_method == "CANCEL"] == []
    assert "cancellation" not in [m.kind for m in _emails(dossier["id"])]
