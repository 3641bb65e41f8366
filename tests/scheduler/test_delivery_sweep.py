"""Beat's delivery sweep: a lost task never strands an email, an abandoned send is shown to HR.

The rows say what remains to do: a waiting email no task took in time is published again, a
send whose worker died becomes `unknown`, is listed in the notices, and HR may resend it.
"""

import os
import signal
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from services.notifier.delivery import deliver
from services.scheduler.deliveries import sweep_deliveries
from services.scheduler.invitations import send_calendars
from shared import outbox
from shared.db import forget_parent_connections, session_scope
from shared.models import Message, OutboxEvent, utcnow
from shared.outbox import flush_marks, relay
from shared.settings import get_settings
from shared.tasks import SEND_CALENDARS, SEND_MESSAGES, SendCalendars
from tests.builders import Builders
from tests.mailbox import SmtpServer

OVERDUE = timedelta(seconds=get_settings().delivery_redeliver_seconds + 1)


def _validation_email(client: Any, hr: dict[str, str], build: Builders) -> uuid.UUID:
    dossier = build.dossier()
    [message] = client.get(f"/api/v1/messages?dossier_id={dossier['id']}", headers=hr).json()[
        "items"
    ]
    return uuid.UUID(message["id"])


def _set(message_id: uuid.UUID, **values: Any) -> None:
    with session_scope() as session:
        session.execute(update(Message).where(Message.id == message_id).values(**values))


def _row(message_id: uuid.UUID) -> Message:
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        session.expunge(message)
        return message


def test_a_waiting_email_no_task_took_is_published_again_once(
    client: Any, hr: dict[str, str], build: Builders
) -> None:
    message_id = _validation_email(client, hr, build)
    published: list[OutboxEvent] = []

    sweep_deliveries(publish=published.append)
    assert published == [], "its own task may still come: not yet due for a second one"

    _set(message_id, next_attempt_at=utcnow() - OVERDUE)  # its task was lost long ago
    swept = sweep_deliveries(publish=published.append)
    assert swept.republished == 1
    [event] = published
    assert (event.task_name, event.payload) == (SEND_MESSAGES, {"items": [str(message_id)]})
    assert sweep_deliveries(publish=published.append).republished == 0, "a second beat: none"
    assert _row(message_id).status == "queued"

    _set(message_id, status="retrying", next_attempt_at=utcnow() - OVERDUE)  # retry lost
    assert sweep_deliveries(publish=published.append).republished == 1


@pytest.mark.parametrize("status", ["sent", "failed", "unknown"])
def test_an_ended_email_is_never_published_again(
    client: Any, hr: dict[str, str], build: Builders, status: str
) -> None:
    message_id = _validation_email(client, hr, build)
    _set(message_id, status=status, next_attempt_at=utcnow() - OVERDUE)
    published: list[OutboxEvent] = []
    assert sweep_deliveries(publish=published.append).republished == 0
    assert published == []


def test_a_broker_down_at_the_sweep_leaves_the_email_due(
    client: Any, hr: dict[str, str], build: Builders
) -> None:
    message_id = _validation_email(client, hr, build)
    due = utcnow() - OVERDUE
    _set(message_id, next_attempt_at=due)

    def refuse(_: OutboxEvent) -> None:
        raise ConnectionError("broker down")

    assert sweep_deliveries(publish=refuse).republished == 0
    assert _row(message_id).next_attempt_at == due
    published: list[OutboxEvent] = []
    assert sweep_deliveries(publish=published.append).republished == 1


def test_an_abandoned_send_becomes_unknown_for_hr_who_may_resend_it(
    client: Any,
    hr: dict[str, str],
    build: Builders,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    api_key: Any,
) -> None:
    message_id = _validation_email(client, hr, build)
    _set(message_id, status="sending", attempts=1, lease_expires_at=utcnow() + timedelta(minutes=1))
    assert sweep_deliveries(publish=lambda _: None).abandoned == 0, "its worker may be sending"

    _set(message_id, lease_expires_at=utcnow() - timedelta(seconds=1))  # the worker died
    assert sweep_deliveries(publish=lambda _: None).abandoned == 1
    assert sweep_deliveries(publish=lambda _: None).abandoned == 0
    row = _row(message_id)
    assert (row.status, row.lease_expires_at) == ("unknown", None)
    assert "not resent automatically" in (row.last_response or "")

    [notice] = client.get("/api/v1/notices", headers=hr).json()["items"]
    assert notice["action"] == "email_unknown:application_validated"
    assert notice["actor"] == "scheduler"
    assert notice["after"]["resend"] == f"POST /api/v1/messages/{message_id}/resend"

    viewer = client.post(notice["after"]["resend"].split()[1], headers=api_key("viewer"))
    assert viewer.status_code == 403
    resent = client.post(f"/api/v1/messages/{message_id}/resend", headers=hr)
    assert resent.status_code == 202, resent.text
    assert (resent.json()["status"], resent.json()["attempts"]) == ("queued", 0)
    again = client.post(f"/api/v1/messages/{message_id}/resend", headers=hr)
    assert again.status_code == 409 and again.json()["state"] == "queued"
    missing = client.post(f"/api/v1/messages/{uuid.uuid4()}/resend", headers=hr)
    assert missing.status_code == 404

    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(smtp_server.port))
    get_settings.cache_clear()
    smtp_server.mailbox.clear()
    try:
        deliver([message_id])
    finally:
        get_settings.cache_clear()
    [received] = smtp_server.mailbox.messages
    assert _row(message_id).status == "sent"
    dossier_id = _row(message_id).dossier_id
    [listed] = client.get(f"/api/v1/messages?dossier_id={dossier_id}", headers=hr).json()["items"]
    assert listed["subject"] == str(received.message["Subject"]), "the subject as sent"
    history = client.get(f"/api/v1/dossiers/{dossier_id}/history", headers=hr).json()["items"]
    resend = [e for e in history if e["action"] == "email_resent:application_validated"]
    assert len(resend) == 1 and resend[0]["before"]["status"] == "unknown"
    sent_again = client.post(f"/api/v1/messages/{message_id}/resend", headers=hr)
    assert sent_again.status_code == 409 and sent_again.json()["state"] == "sent"


def test_a_calendar_change_is_relayed_until_its_emails_are_queued(
    client: Any, hr: dict[str, str], build: Builders
) -> None:
    job = build.job()
    dossier = build.dossier(job)
    build.invite(build.written_trial(job), dossier)
    flush_marks()
    with session_scope() as session:
        events = {e.task_name: e for e in session.scalars(select(OutboxEvent))}
        calendar, email = events[SEND_CALENDARS], events[SEND_MESSAGES]
        # The API published both: the email's event is done (its row takes over), not the
        # calendar change's, which waits for its consumer.
        assert email.done_at is not None
        assert calendar.published_at is not None and calendar.done_at is None
    grace, redeliver = timedelta(seconds=2), timedelta(seconds=120)
    published: list[OutboxEvent] = []
    assert relay(published.append, grace=grace, redeliver=redeliver) == 0, "not yet"

    with session_scope() as session:  # its task was lost two minutes ago
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == calendar.id)
            .values(published_at=utcnow() - redeliver - timedelta(seconds=1))
        )
    assert relay(published.append, grace=grace, redeliver=redeliver) == 1
    assert [e.id for e in published] == [calendar.id], "same task id: the same event"
    assert relay(published.append, grace=grace, redeliver=redeliver) == 0, "due again later"

    send_calendars(
        SendCalendars.model_validate(published[0].payload),
        publish=lambda _: None,
        event_id=calendar.id,
    )
    flush_marks()
    with session_scope() as session:
        assert session.get(OutboxEvent, calendar.id).done_at is not None  # type: ignore[union-attr]
    with session_scope() as session:
        session.execute(
            update(OutboxEvent).values(published_at=utcnow() - redeliver - timedelta(seconds=1))
        )
    assert relay(published.append, grace=grace, redeliver=redeliver) == 0, "done: never again"


def test_events_whose_marks_were_never_written_are_published_again(
    client: Any, hr: dict[str, str], build: Builders, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API marks what it published from a thread of its own, a few ms after the answer:
    a process that dies before (here: its marks dropped) leaves them to the relay."""
    monkeypatch.setattr(outbox._Marks, "add", lambda self, events: None)  # died before writing
    build.dossier()  # validated: its email's event is published by the API
    flush_marks()
    with session_scope() as session:
        [event] = session.scalars(select(OutboxEvent)).all()
        assert event.published_at is None and event.task_name == SEND_MESSAGES
    published: list[OutboxEvent] = []
    assert relay(published.append, grace=timedelta(0), redeliver=timedelta(minutes=2)) == 1
    assert [e.id for e in published] == [event.id], "the same event, the same task id"
    monkeypatch.undo()

    build.dossier()  # and once they are written, the relay leaves the event alone
    flush_marks()
    assert relay(published.append, grace=timedelta(0), redeliver=timedelta(minutes=2)) == 0


def test_a_forked_worker_writes_its_own_marks(
    client: Any, hr: dict[str, str], build: Builders
) -> None:
    """A prefork child marks what it publishes, even if the parent's mark thread was writing
    (holding its lock) at the fork: the child gets a lock and a thread of its own."""
    build.dossier()  # the API published its email's event: the parent's mark thread runs
    flush_marks()
    with session_scope() as session:
        session.execute(update(OutboxEvent).values(published_at=None))
        [event] = session.scalars(select(OutboxEvent)).all()
    outbox._marks._writing.acquire()  # the parent's thread in the middle of a flush
    try:
        child = os.fork()
        if child == 0:  # pragma: no cover (the child's exit status is the assertion)
            status = 1
            try:
                forget_parent_connections()
                outbox._marks.add([event])
                flush_marks()
                status = 0
            finally:
                os._exit(status)
    finally:
        outbox._marks._writing.release()
    deadline = time.monotonic() + 30
    while (ended := os.waitpid(child, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if ended[0] == 0:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    assert ended[0] == child, "the child's flush waited on the lock its parent held"
    assert os.waitstatus_to_exitcode(ended[1]) == 0
    with session_scope() as session:
        assert session.get(OutboxEvent, event.id).published_at is not None  # type: ignore[union-attr]
