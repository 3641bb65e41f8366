"""Beat's deadline sweeps, called directly: expiry, automatic slots, reminders once."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from services.scheduler import deadlines
from services.scheduler.deadlines import expire_unanswered, send_reminders
from services.scheduler.invitations import message_key, trial_context
from shared import loading
from shared.db import session_scope
from shared.emails.texts import render
from shared.messages import Email, queue_messages
from shared.models import Message, Participation, utcnow
from tests.beats import as_two_beats
from tests.replies_flow import run_calendars


def _no_publish(_: Any) -> None:
    """The sweeps' events stay in the outbox: these tests read the rows they wrote."""


def _pass_deadline(trial_id: str) -> None:
    with session_scope() as session:
        session.execute(
            update(Participation)
            .where(Participation.trial_id == uuid.UUID(trial_id))
            .values(response_deadline=utcnow() - timedelta(seconds=1))
        )


def _invited_ago(trial_id: str, ago: timedelta) -> None:
    """The invitations went out `ago`."""
    with session_scope() as session:
        session.execute(
            update(Participation)
            .where(Participation.trial_id == uuid.UUID(trial_id))
            .values(created_at=utcnow() - ago)
        )


def _states(client: Any, hr: dict[str, str], trial_id: str) -> list[str]:
    items = client.get(f"/api/v1/trials/{trial_id}/participations", headers=hr).json()["items"]
    return sorted(p["status"] for p in items)


def test_unanswered_invitations_expire_once(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    dossiers = [build.dossier(job) for _ in range(2)]
    trial = build.written_trial(job)
    build.invite(trial, *dossiers)
    _pass_deadline(trial["id"])

    assert expire_unanswered(publish=_no_publish) == 2
    assert expire_unanswered(publish=_no_publish) == 0, "a second beat finds nothing"
    assert _states(client, hr, trial["id"]) == ["expired", "expired"]
    notices = client.get(f"/api/v1/notices?job_id={job['id']}", headers=hr).json()["items"]
    assert [n["action"] for n in notices] == ["invitation_expired", "invitation_expired"]
    run_calendars()  # the scheduler builds the expiry emails
    run_calendars()  # a block delivered twice sends one email each
    with session_scope() as session:
        kinds = session.scalars(select(Message.kind).where(Message.kind == "invitation_expired"))
        assert len(list(kinds)) == 2


def test_two_beats_at_once_expire_and_email_each_once(
    client: Any, build: Any, hr: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two beats tick together, batches of two, until neither finds anything: their claims
    skip each other's locked rows, so each invitation expires once and gets one email."""
    monkeypatch.setattr(deadlines, "BATCH", 2)
    job = build.job()
    dossiers = [build.dossier(job) for _ in range(7)]
    trial = build.written_trial(job)
    build.invite(trial, *dossiers)
    _pass_deadline(trial["id"])
    counts: list[int] = []

    def tick() -> None:
        while handled := expire_unanswered(publish=_no_publish):
            counts.append(handled)

    as_two_beats(tick)
    assert sum(counts) == 7
    assert _states(client, hr, trial["id"]) == ["expired"] * 7
    run_calendars()
    with session_scope() as session:
        emails = session.scalars(
            select(Message.dossier_id).where(Message.kind == "invitation_expired")
        ).all()
    assert sorted(str(d) for d in emails) == sorted(d["id"] for d in dossiers)


def test_auto_assign_gives_the_first_free_slots(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    job = build.job()
    dossiers = [build.dossier(job) for _ in range(3)]
    body = {
        "kind": "oral",
        "title": "Oral",
        "response_deadline": "2027-06-01T12:00:00+02:00",
        "booking": {
            "slot_minutes": 30,
            "capacity": 1,
            "auto_assign": True,
            "windows": [{"start": "2027-06-15T09:00:00+02:00", "end": "2027-06-15T10:00:00+02:00"}],
        },
    }
    trial = client.post(f"/api/v1/jobs/{job['id']}/trials", json=body, headers=hr).json()
    build.invite(trial, *dossiers)
    _pass_deadline(trial["id"])

    expire_unanswered(publish=_no_publish)

    assert _states(client, hr, trial["id"]) == ["accepted", "accepted", "expired"]
    slots = client.get(f"/api/v1/trials/{trial['id']}/slots", headers=hr).json()["items"]
    assert [s["booked"] for s in slots] == [1, 1]

    # Their confirmations: the deadline to choose has passed, so no link to change the slot
    # (it would answer 410 at once). The third, left without a slot, had no event in its
    # calendar: its expiry email carries no CANCEL.
    run_calendars()
    with session_scope() as session:
        confirmations = session.scalars(
            select(Message).where(Message.kind == "booking_confirmation")
        ).all()
        assert len(confirmations) == 2
        for message in confirmations:
            assert "change_link" not in message.context
            _, text, html = render(message.kind, message.language, message.context)
            assert "/c/" not in text and "/c/" not in html
        [expiry] = session.scalars(select(Message).where(Message.kind == "invitation_expired"))
        assert (expiry.calendar_method, expiry.calendar_ics) == (None, None)


def test_reminders_once_per_sequence(client: Any, build: Any, hr: dict[str, str]) -> None:
    job = build.job()
    invited, attending = build.dossier(job), build.dossier(job)
    soon = (utcnow() + timedelta(hours=30)).isoformat()
    deadline = (utcnow() + timedelta(hours=2)).isoformat()
    trial = build.written_trial(job, starts_at=soon, response_deadline=deadline)
    build.invite(trial, invited, attending)
    _invited_ago(trial["id"], timedelta(days=3))
    with session_scope() as session:
        session.execute(
            update(Participation)
            .where(Participation.dossier_id == uuid.UUID(attending["id"]))
            .values(status="accepted")
        )

    first = send_reminders(publish=_no_publish)
    again = send_reminders(publish=_no_publish)

    assert first == 1, "the response reminder is due (48 h before), the trial one is not (24 h)"
    assert again == 0, "once per SEQUENCE"
    with session_scope() as session:
        kinds = list(session.scalars(select(Message.kind).where(Message.kind.like("%reminder"))))
    assert kinds == ["response_reminder"]


def _reminders() -> list[str]:
    with session_scope() as session:
        return [
            str(m.context["candidate_name"])
            for m in session.scalars(select(Message).where(Message.kind == "response_reminder"))
        ]


def test_no_response_reminder_right_after_the_invitation(
    client: Any, build: Any, hr: dict[str, str]
) -> None:
    """A trial whose answer deadline is within the reminder's lead (48 h): an invitation sent
    now would be followed at once by "we have not received your answer"."""
    job = build.job()
    fresh = build.dossier(job, candidate=build.candidate(first_name="Fresh"))
    trial = build.written_trial(
        job,
        starts_at=(utcnow() + timedelta(days=5)).isoformat(),
        response_deadline=(utcnow() + timedelta(hours=30)).isoformat(),
    )
    build.invite(trial, fresh)

    assert send_reminders(publish=_no_publish) == 0
    _invited_ago(trial["id"], timedelta(hours=23))  # 5 h before the reminder's time (-18 h)
    assert send_reminders(publish=_no_publish) == 0, "less than a day before the reminder"
    assert _reminders() == []

    _invited_ago(trial["id"], timedelta(hours=43))  # a day before the reminder's time
    assert send_reminders(publish=_no_publish) == 1
    [name] = _reminders()
    assert name.startswith("Fresh")


def test_a_short_lead_needs_only_that_long(client: Any, build: Any, hr: dict[str, str]) -> None:
    """With a 3-hour reminder, an invitation 3 hours before the reminder's time is well before."""
    job = build.job()
    dossier = build.dossier(job)
    trial = build.written_trial(
        job,
        starts_at=(utcnow() + timedelta(days=5)).isoformat(),
        response_deadline=(utcnow() + timedelta(hours=2)).isoformat(),
        response_reminder_hours=3,
    )
    build.invite(trial, dossier)
    _invited_ago(trial["id"], timedelta(hours=3))  # 2 h before the reminder's time (-1 h)
    assert send_reminders(publish=_no_publish) == 0
    _invited_ago(trial["id"], timedelta(hours=4, minutes=1))
    assert send_reminders(publish=_no_publish) == 1


def test_reminders_reach_every_invitee_beyond_a_batch(
    client: Any, build: Any, hr: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows the sweep skips (reminded already) never hide the others: with batches of 2, the
    five invitees of one deadline are all reminded, over one tick or several."""
    monkeypatch.setattr(deadlines, "BATCH", 2)
    job = build.job()
    dossiers = [build.dossier(job) for _ in range(5)]
    soon = (utcnow() + timedelta(hours=30)).isoformat()
    deadline = (utcnow() + timedelta(hours=2)).isoformat()
    trial = build.written_trial(job, starts_at=soon, response_deadline=deadline)
    build.invite(trial, *dossiers)
    _invited_ago(trial["id"], timedelta(days=3))
    with session_scope() as session:  # two answer earlier: the sweep meets them first
        session.execute(
            update(Participation)
            .where(Participation.dossier_id.in_([uuid.UUID(d["id"]) for d in dossiers[:2]]))
            .values(response_deadline=utcnow() + timedelta(hours=1))
        )
    for participation_id in _participation_ids(dossiers[:2]):
        _remind_now(participation_id)

    assert send_reminders(publish=_no_publish) == 3, "the batch reminded already hid them"
    assert send_reminders(publish=_no_publish) == 0
    assert len(_reminders()) == 5


def _participation_ids(dossiers: list[dict[str, Any]]) -> list[uuid.UUID]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(Participation.id).where(
                    Participation.dossier_id.in_([uuid.UUID(d["id"]) for d in dossiers])
                )
            )
        )


def _remind_now(participation_id: uuid.UUID) -> None:
    """The reminder this participation got at an earlier tick."""
    with session_scope() as session:
        participation = session.get(Participation, participation_id, options=loading.PARTICIPATION)
        assert participation is not None
        reminder = Email(
            kind="response_reminder",
            idempotency_key=message_key("response_reminder", participation),
            candidate=participation.dossier.candidate,
            context={
                **trial_context(participation),
                "accept_link": "https://x.example/c/a",
                "decline_link": "https://x.example/c/d",
            },
            dossier_id=participation.dossier_id,
        )
        queue_messages(session, [reminder], actor=deadlines.ACTOR)
