"""A task the broker lost after its decision committed: the database still drives it to its end.

The worker that would take the task is stopped, the decision is made over HTTP (committed and
published), the broker's queues are purged (what a Redis restarted without persistence, or a
worker killed after it read the task from the embedded broker, leaves), and the worker comes
back: beat's sweeps publish the work again from the rows, and the email arrives once.
"""

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from shared.celery_app import make_celery
from shared.db import session_scope
from shared.models import OutboxEvent
from shared.tasks import SEND_CALENDARS
from tests.e2e.slice import apply_and_validate, invite_to_written_trial, wait_for_statuses
from tests.mailbox import Mailbox, SmtpServer
from tests.stack import Stack, start_stack, wait_for_workers

pytestmark = pytest.mark.e2e

REDELIVER_SECONDS = 3


@pytest.fixture(scope="module")
def stack(smtp_server: SmtpServer, tmp_path_factory: Any) -> Iterator[Stack]:
    stack = start_stack(
        tmp_path_factory.mktemp("logs"),
        smtp_server.port,
        DELIVERY_SWEEP_SECONDS="1",
        DELIVERY_REDELIVER_SECONDS=str(REDELIVER_SECONDS),
    )
    yield stack
    stack.stop()


def _stop(stack: Stack, name: str) -> None:
    process = stack.processes.pop(name)
    process.terminate()
    process.wait(timeout=30)
    (stack.logs / f"{name}.log").unlink()  # so that wait_for_workers sees the new one start


def _lose_every_task() -> None:
    make_celery("recrue-lost-tasks").control.purge()


def _restart_worker(stack: Stack, name: str) -> None:
    stack.start(name, "worker", name)
    wait_for_workers(stack)


def _once(mailbox: Mailbox, address: str, timeout: float = 60) -> None:
    mailbox.wait_for(1, timeout=timeout, where=lambda m: m.rcpt_tos == [address])
    time.sleep(REDELIVER_SECONDS + 2)  # long enough for the sweep to act twice, were it wrong
    assert len([m for m in mailbox.messages if m.rcpt_tos == [address]]) == 1, "exactly once"


def test_an_email_whose_task_was_lost_is_sent_once(stack: Stack, mailbox: Mailbox) -> None:
    http = httpx.Client(base_url=stack.base_url, headers=stack.create_api_key(), timeout=15)
    _stop(stack, "notifier")
    _, dossier_id = apply_and_validate(http, "lost-email@example.org", "LOST-1")
    [message] = http.get(f"/api/v1/messages?dossier_id={dossier_id}").json()["items"]
    assert message["status"] == "queued"
    _lose_every_task()

    _restart_worker(stack, "notifier")

    _once(mailbox, "lost-email@example.org")
    wait_for_statuses(http, dossier_id, {"sent"}, 1)


def test_a_calendar_change_whose_task_was_lost_is_sent_once(stack: Stack, mailbox: Mailbox) -> None:
    http = httpx.Client(base_url=stack.base_url, headers=stack.create_api_key(), timeout=15)
    job_id, dossier_id = apply_and_validate(http, "lost-calendar@example.org", "LOST-2")
    mailbox.wait_for(1, where=lambda m: m.rcpt_tos == ["lost-calendar@example.org"])
    _stop(stack, "scheduler")
    invite_to_written_trial(http, job_id, dossier_id)
    deadline = time.monotonic() + 5  # the API marks what it published a few ms later
    while True:
        with session_scope() as session:
            [event] = session.scalars(
                select(OutboxEvent).where(OutboxEvent.task_name == SEND_CALENDARS)
            ).all()
        if event.published_at is not None or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert event.published_at is not None and event.done_at is None
    _lose_every_task()

    _restart_worker(stack, "scheduler")

    mailbox.wait_for(2, timeout=60, where=lambda m: m.rcpt_tos == ["lost-calendar@example.org"])
    time.sleep(REDELIVER_SECONDS + 2)
    received = [m for m in mailbox.messages if m.rcpt_tos == ["lost-calendar@example.org"]]
    assert len(received) == 2, "the validation, then the invitation, once"
    assert received[1].message.get_content_type() == "multipart/mixed"  # carries the calendar
    with session_scope() as session:
        done = session.scalars(
            select(OutboxEvent.done_at).where(OutboxEvent.task_name == SEND_CALENDARS)
        ).one()
        assert done is not None, "the relay stops once its effect committed"
