"""A message row's delivery: sent once, retried on 4xx, failed on 5xx, never sent twice."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from services.notifier.delivery import GROUP, MAX_ATTEMPTS, deliver
from shared.db import session_scope
from shared.messages import Email, queue_message
from shared.models import Application, Candidate, HistoryEntry, Message, utcnow
from shared.settings import get_settings
from tests.mailbox import SmtpServer, free_port
from tests.notifier.conftest import Scripted


def _queued(
    language: str = "fr",
    context: dict[str, Any] | None = None,
    email: str = "elise@example.org",
) -> uuid.UUID:
    with session_scope() as session:
        candidate = Candidate(
            first_name="Élise", last_name="Dupont", email=email, language=language
        )
        session.add(candidate)
        session.flush()
        application = Application(kind="spontaneous", candidate_id=candidate.id)
        session.add(application)
        session.flush()
        message = queue_message(
            session,
            kind="application_validated",
            idempotency_key=f"test:{uuid.uuid4()}",
            candidate=candidate,
            context=context
            or {"candidate_name": "Élise Dupont", "job_title": "Juriste", "job_reference": "J-1"},
            actor="test",
            application_id=application.id,
        )
        return message.id


def _history(message_id: uuid.UUID) -> list[HistoryEntry]:
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        entries = session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.application_id == message.application_id)
            .order_by(HistoryEntry.id)
        ).all()
        session.expunge_all()
        return list(entries)


def _row(message_id: uuid.UUID) -> Message:
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        session.expunge(message)
        return message


def test_sent_once_even_if_delivered_twice(smtp_server: SmtpServer, smtp_to: Any) -> None:
    smtp_to(smtp_server.port)
    smtp_server.mailbox.clear()
    message_id = _queued()

    assert deliver([message_id]) == []
    assert deliver([message_id]) == []  # a redelivered task

    [received] = smtp_server.mailbox.wait_for(1)
    assert "Juriste" in str(received.message["Subject"])
    row = _row(message_id)
    assert (row.status, row.attempts) == ("sent", 1)
    assert row.sent_at is not None and row.last_response.startswith("250")
    assert len(smtp_server.mailbox.messages) == 1


@pytest.mark.parametrize(
    "language, words",
    [("de", "Bewerbung"), ("nl", "kandidatuur"), ("en", "validated"), ("es", "validated")],
)
def test_written_in_the_candidate_language(
    smtp_server: SmtpServer, smtp_to: Any, language: str, words: str
) -> None:
    smtp_to(smtp_server.port)
    smtp_server.mailbox.clear()
    message_id = _queued(language=language)
    deliver([message_id])
    [received] = smtp_server.mailbox.wait_for(1)
    assert words in str(received.message["Subject"])
    assert _row(message_id).subject == str(received.message["Subject"])


def test_transient_failure_retries_then_fails(scripted: Any, smtp_to: Any) -> None:
    smtp_to(scripted(Scripted(rcpt="451 4.3.0 try later")))
    message_id = _queued()

    before = utcnow()
    assert deliver([message_id]) == [message_id]
    retrying = _row(message_id)
    assert retrying.status == "retrying" and retrying.lease_expires_at is None
    assert retrying.next_attempt_at is not None
    assert (
        before + timedelta(seconds=2) <= retrying.next_attempt_at <= utcnow() + timedelta(seconds=3)
    )

    assert [e.action for e in _history(message_id)] == ["email_queued:application_validated"]

    for _ in range(MAX_ATTEMPTS - 2):
        assert deliver([message_id]) == [message_id]
    assert deliver([message_id]) == []  # the last attempt
    row = _row(message_id)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert row.last_response.startswith("451")
    failed = _history(message_id)[-1]
    assert (failed.actor, failed.action) == ("notifier", "email_failed:application_validated")
    assert failed.after == {
        "message_id": str(message_id),
        "response": row.last_response,
        "resend": f"POST /api/v1/messages/{message_id}/resend",
    }
    assert row.next_attempt_at is None, "a failed row is due for nothing"


def test_permanent_failure_is_not_retried(scripted: Any, smtp_to: Any) -> None:
    smtp_to(scripted(Scripted(rcpt="550 5.1.1 no such user")))
    message_id = _queued()
    deliver([message_id])
    row = _row(message_id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "5.1.1" in row.last_response
    failed = _history(message_id)[-1]
    assert failed.action == "email_failed:application_validated"
    assert failed.application_id == row.application_id
    assert failed.after is not None and "5.1.1" in failed.after["response"]


def test_a_context_that_cannot_render_fails_at_once(smtp_server: SmtpServer, smtp_to: Any) -> None:
    smtp_to(smtp_server.port)
    smtp_server.mailbox.clear()
    message_id = _queued()
    with session_scope() as session:  # a row written before its kind required candidate_name
        session.execute(
            update(Message).where(Message.id == message_id).values(context={"job_title": "J"})
        )
    deliver([message_id])
    row = _row(message_id)
    assert row.status == "failed" and "candidate_name" in row.last_response
    assert _history(message_id)[-1].action == "email_failed:application_validated"
    assert smtp_server.mailbox.messages == []


def test_an_email_without_a_required_key_is_refused_at_the_call() -> None:
    with pytest.raises(ValueError, match="candidate_name"):
        _queued(context={"job_title": "Juriste"})
    with pytest.raises(ValueError, match="unknown email kind"):
        Email("application_validatd", "k", Candidate(email="a@b.c"), {})
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0, "nothing queued"


def test_abandoned_send_becomes_unknown_not_resent(smtp_server: SmtpServer, smtp_to: Any) -> None:
    smtp_to(smtp_server.port)
    smtp_server.mailbox.clear()
    message_id = _queued()
    with session_scope() as session:  # a worker died in the middle of the send, long ago
        session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(status="sending", attempts=1, lease_expires_at=utcnow() - timedelta(minutes=1))
        )

    deliver([message_id])

    assert _row(message_id).status == "unknown"
    assert smtp_server.mailbox.messages == []
    unknown = _history(message_id)[-1]
    assert (unknown.actor, unknown.action) == ("notifier", "email_unknown:application_validated")


def test_send_under_way_elsewhere_is_retried_later(smtp_server: SmtpServer, smtp_to: Any) -> None:
    smtp_to(smtp_server.port)
    message_id = _queued()
    with session_scope() as session:
        session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(status="sending", lease_expires_at=utcnow() + timedelta(minutes=5))
        )
    assert deliver([message_id]) == [message_id]
    assert _row(message_id).status == "sending"


def test_a_batch_goes_out_once_each_over_several_groups(
    smtp_server: SmtpServer, smtp_to: Any
) -> None:
    smtp_to(smtp_server.port)
    smtp_server.mailbox.clear()
    ids = [_queued() for _ in range(GROUP + 3)]

    assert deliver(ids) == []
    assert deliver(ids) == []  # a redelivered task sends nothing again

    assert len(smtp_server.mailbox.wait_for(len(ids))) == len(ids)
    assert [(r.status, r.attempts) for r in map(_row, ids)] == [("sent", 1)] * len(ids)
    assert len({str(m.message["Message-ID"]) for m in smtp_server.mailbox.messages}) == len(ids)


def test_a_batch_keeps_several_connections_busy(
    scripted: Any, smtp_to: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = Scripted(stall=0.3)  # a slow server: one connection at a time would wait in turn
    monkeypatch.setenv("SMTP_CONNECTIONS", "3")
    smtp_to(scripted(server))
    ids = [_queued() for _ in range(6)]

    assert deliver(ids) == []

    assert server.most_at_once == 3
    assert len(server.received) == 6
    assert {_row(m).status for m in ids} == {"sent"}


def test_an_unreachable_server_defers_the_whole_batch(smtp_to: Any) -> None:
    smtp_to(free_port())  # nothing listens there
    ids = [_queued() for _ in range(GROUP + 2)]

    assert deliver(ids) == ids

    rows = [_row(m) for m in ids]
    assert {(r.status, r.attempts) for r in rows} == {("retrying", 1)}
    tried = [r for r in rows if not r.last_response.startswith("not sent: ")]
    assert 1 <= len(tried) <= get_settings().smtp_connections, "the others were not tried"
    assert all("Connect" in r.last_response or "refused" in r.last_response for r in tried)


def test_a_server_back_up_gets_the_retry(smtp_to: Any) -> None:
    port = free_port()
    smtp_to(port)  # nothing listens there yet
    message_id = _queued()
    assert deliver([message_id]) == [message_id]

    server = Controller(Scripted(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        assert deliver([message_id]) == [], "the retry goes out once the server is back"
    finally:
        server.stop()
    assert (_row(message_id).status, _row(message_id).attempts) == ("sent", 2)


def test_a_refused_recipient_does_not_hold_back_the_others(scripted: Any, smtp_to: Any) -> None:
    smtp_to(scripted(Scripted(refuse={"elise@example.org": "450 4.2.1 mailbox busy"})))
    waiting = _queued()
    other = _queued(email="jan@example.org")

    assert deliver([waiting, other]) == [waiting]
    assert (_row(waiting).status, _row(other).status) == ("retrying", "sent")
    assert _row(waiting).last_response.startswith("450 4.2.1")
