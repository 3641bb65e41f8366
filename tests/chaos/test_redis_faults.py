"""Scenarios 3 and 4: the suite's private Redis is restarted without persistence while tasks
wait in it, then frozen (SIGSTOP) while the api writes and the notifier sends.

The machine's own Redis is never touched: the chaos stack runs on a redis-server of its own
(`--save "" --appendonly no`, a free port).
"""

import time

import pytest
import redis

from tests.builders import seed_dossiers
from tests.chaos.harness import (
    ChaosStack,
    Tally,
    address,
    invitations_and_decisions,
    invite_all,
    new_job,
    probe_readyz,
    run_id,
    sized,
    validated,
)
from tests.mailbox import SmtpServer

pytestmark = [pytest.mark.chaos, pytest.mark.e2e, pytest.mark.redis_broker]

# A request during a freeze must answer within this: BROKER_TIMEOUT (2 s) gives up a publish,
# the relay publishes the event later.
ANSWER_WITHIN = 10.0


def _waiting_rows(recipients: list[str]) -> int:
    from sqlalchemy import func, select

    from shared.db import session_scope
    from shared.models import Message

    with session_scope() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    Message.to_address.in_(recipients), Message.status == "queued"
                )
            )
            or 0
        )


def test_redis_restarted_without_persistence(chaos_stack: ChaosStack, smtp: SmtpServer) -> None:
    """Tasks waiting in Redis are lost with it: the database still knows every email."""
    assert chaos_stack.redis is not None
    run = run_id()
    queued = [address(run, n, "msg") for n in range(sized(15, 100))]
    planned = [address(run, n, "cal") for n in range(sized(15, 100))]
    http = chaos_stack.hr()
    tally = Tally("redis restarted without persistence", smtp, queued + planned)

    # Messages built and queued, their send tasks waiting: the notifier is stopped.
    chaos_stack.stop_gracefully("notifier")
    job = new_job(http, run, "-M")
    seed_dossiers(job, queued)
    invite_all(http, job)
    deadline = time.monotonic() + 60
    while _waiting_rows(queued) < len(queued):
        assert time.monotonic() < deadline, "the scheduler never queued the invitations"
        time.sleep(0.2)
    # Calendars to build, their tasks waiting: the scheduler is stopped too.
    chaos_stack.stop_gracefully("scheduler")
    job = new_job(http, run, "-C")
    seed_dossiers(job, planned)
    invite_all(http, job)
    time.sleep(2)  # published by the api (or the relay)
    server = redis.Redis(port=chaos_stack.redis.port)
    waiting = {queue: server.llen(queue) for queue in ("notifications", "scheduling")}
    assert all(waiting.values()), f"tasks should be waiting in Redis: {waiting}"

    chaos_stack.redis.restart()
    assert server.llen("notifications") == server.llen("scheduling") == 0, "nothing survived"
    chaos_stack.start("scheduler")
    chaos_stack.start("notifier")
    tally.healed()
    tally.wait(timeout=sized(90, 180))
    figures = tally.check(http, chaos_stack)
    figures.notes["tasks_lost_with_redis"] = sum(waiting.values())


def test_redis_frozen_during_writes(chaos_stack: ChaosStack, smtp: SmtpServer) -> None:
    """SIGSTOP on Redis while HR decides and the notifier sends; SIGCONT after a while."""
    assert chaos_stack.redis is not None
    http, applications, tally, decisions = invitations_and_decisions(
        chaos_stack, smtp, "redis frozen (SIGSTOP) during writes"
    )
    time.sleep(0.5)
    freeze = sized(12, 30)
    chaos_stack.redis.freeze()
    frozen_at = time.monotonic()
    probes = probe_readyz(chaos_stack.base_url, frozen_at + freeze)
    chaos_stack.redis.thaw()
    thawed_at = time.monotonic()
    tally.healed()
    decisions.join(timeout=sized(90, 180))
    assert validated(applications) == set(applications)
    tally.wait(timeout=sized(90, 180))
    figures = tally.check(http, chaos_stack)
    assert decisions.longest_try(frozen_at, thawed_at) > 0, "no decision met the fault"
    longest = decisions.longest_try(frozen_at, thawed_at)
    figures.notes.update(
        freeze_seconds=freeze,
        longest_decision_while_frozen=round(longest, 1),
        longest_readyz_while_frozen=max(p[0] for p in probes),
        decision_outcomes=decisions.outcomes(),
    )
    assert longest < ANSWER_WITHIN, f"a decision waited {longest:.1f} s on the frozen Redis"
    assert max(p[0] for p in probes) < ANSWER_WITHIN, f"/readyz hung: {probes}"
