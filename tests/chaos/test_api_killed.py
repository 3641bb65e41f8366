"""Scenario 1: the api is killed (SIGKILL) between a decision's commit and its publish.

- On Redis, precisely: the api's own connection to Redis is frozen (a proxy that accepts and
  forwards nothing), so its publish hangs right after the commit; the test sees the commit in
  the database and kills the api there. Beat's outbox relay, which reaches Redis, publishes it.
- On every backend, under load: a front-end validates applications one after the other (with
  an Idempotency-Key, repeating a request that got no answer); the api is killed at moments the
  test does not choose and restarted. Every decision that committed is emailed exactly once.
"""

import contextlib
import random
import threading
import time
from datetime import datetime

import httpx
import pytest
from sqlalchemy import select

from shared.db import session_scope
from shared.models import OutboxEvent, utcnow
from tests.chaos.harness import (
    ChaosStack,
    Decisions,
    Tally,
    address,
    new_applications,
    new_job,
    run_id,
    sized,
    validated,
)
from tests.mailbox import SmtpServer

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]


def _events_since(moment: datetime) -> list[tuple[datetime | None, int]]:
    with session_scope() as session:
        return list(
            session.execute(
                select(OutboxEvent.published_at, OutboxEvent.attempts).where(
                    OutboxEvent.created_at >= moment
                )
            ).all()
        )


@pytest.mark.redis_broker
def test_api_killed_while_its_publish_hangs(chaos_stack: ChaosStack, smtp: SmtpServer) -> None:
    kills = sized(2, 5)
    run = run_id()
    recipients = [address(run, n) for n in range(kills)]
    http = chaos_stack.hr()
    job = new_job(http, run)
    applications = new_applications(http, job, recipients)
    tally = Tally("api SIGKILL between commit and publish", smtp, recipients)
    assert chaos_stack.api_broker is not None
    headers = dict(http.headers)
    recoveries = []
    for application, recipient in zip(applications, recipients, strict=True):
        chaos_stack.api_broker.freeze()
        before = utcnow()

        def validate(application: str = application) -> None:
            # The api dies under it: the front-end gets no answer.
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(
                    f"{chaos_stack.base_url}/api/v1/applications/{application}/validate",
                    headers=headers,
                    timeout=30,
                )

        request = threading.Thread(target=validate, daemon=True)
        request.start()
        deadline = time.monotonic() + 15
        while application not in validated([application]):
            assert time.monotonic() < deadline, "the decision never committed"
            time.sleep(0.05)
        time.sleep(0.3)  # the api is now in its publish, held by the frozen connection
        events = _events_since(before)
        assert events and all(published is None for published, _ in events), events
        chaos_stack.kill("api")
        killed = time.time()
        chaos_stack.api_broker.up()  # what the dead api had written may still reach Redis
        request.join(10)
        # The relay, not the dead api, publishes it: the email comes without a restart.
        [received] = smtp.mailbox.wait_for(
            1, timeout=30, where=lambda m, r=recipient: r in m.rcpt_tos
        )
        recoveries.append(received.at - killed)
        chaos_stack.start("api")
    tally.wait(timeout=sized(30, 60))
    figures = tally.check(http, chaos_stack)
    figures.time_to_recover = round(max(recoveries), 1)  # from the SIGKILL to the email
    figures.notes["kills"] = kills


def test_api_killed_under_load(chaos_stack: ChaosStack, smtp: SmtpServer) -> None:
    count, kills = sized(15, 100), sized(2, 6)
    run = run_id()
    recipients = [address(run, n) for n in range(count)]
    http = chaos_stack.hr()
    job = new_job(http, run)
    applications = new_applications(http, job, recipients)
    tally = Tally("api SIGKILL under load", smtp, recipients)
    decisions = Decisions(chaos_stack.base_url, dict(http.headers), applications).start(0.05)
    rng = random.Random(run)
    for kill in range(kills):
        # At a moment the test does not choose, while decisions are coming in.
        target = (kill + 1) * count // (kills + 1)
        deadline = time.monotonic() + 60
        while len(decisions.answered) < target and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.2))
        chaos_stack.kill("api")
        time.sleep(0.5)
        chaos_stack.start("api")
    tally.healed()
    decisions.join(timeout=sized(60, 180))
    assert validated(applications) == set(applications), "every decision committed in the end"
    tally.wait(timeout=sized(30, 60))
    figures = tally.check(http, chaos_stack)
    figures.notes["kills"] = kills
    figures.notes["requests_without_answer"] = sum(
        not outcome.isdigit() for _, _, outcome in decisions.tries
    )
