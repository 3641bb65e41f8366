"""Scenario 5: PostgreSQL refuses connections, then hangs (a proxy in front of the machine's
PostgreSQL: down = refused, frozen = accepted but nothing forwarded, on open connections too),
while HR decides and the notifier sends. The machine's PostgreSQL itself is never stopped.

During the outage decisions fail (a 503 problem) and the front-end repeats them with the same
Idempotency-Key; the api must answer within seconds rather than hang. Afterwards every decision
has committed once and each email went out once; a send whose result could not be recorded
ends `unknown` (listed in /notices).

Found here first: a request that took a pooled connection while PostgreSQL hung waited for as
long as the hang lasted (DATABASE_CONNECT_TIMEOUT bounds only new connections, statement_timeout
is enforced by the server, which never sees the query, and the pool's pre-ping had no bound).
The client-side statement deadline (shared/statement_deadline.py) bounds both now;
`test_a_pooled_connection_does_not_hold_a_request` keeps it so.
"""

import contextlib
import threading
import time

import httpx
import pytest

from tests.chaos.harness import (
    ChaosStack,
    invitations_and_decisions,
    probe_readyz,
    sized,
    validated,
)
from tests.mailbox import SmtpServer

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.e2e,
    pytest.mark.postgresql,  # deselected on SQLite: no network database to cut off
]

# DATABASE_CONNECT_TIMEOUT is 5 s: no request should wait much longer than that. Each outage
# lasts longer than this, so that a request held for the whole outage shows.
ANSWER_WITHIN = 12.0


def test_postgresql_refusing_then_hanging(chaos_stack: ChaosStack, smtp: SmtpServer) -> None:
    assert chaos_stack.database is not None
    proxy = chaos_stack.database
    http, applications, tally, decisions = invitations_and_decisions(
        chaos_stack, smtp, "postgresql refusing, then hanging"
    )
    outage = sized(8, 20)  # refused
    hang = sized(15, 30)  # then hanging: longer than ANSWER_WITHIN

    proxy.down()  # refused
    down_at = time.monotonic()
    refused = probe_readyz(chaos_stack.base_url, down_at + outage)
    proxy.up()
    decisions.wait_answered(len(decisions.answered) + 1)  # a pooled connection again
    proxy.freeze()  # hanging
    frozen_at = time.monotonic()
    hung = probe_readyz(chaos_stack.base_url, frozen_at + hang)
    proxy.thaw()
    thawed_at = time.monotonic()
    tally.healed()

    decisions.join(timeout=sized(120, 240))
    assert validated(applications) == set(applications)
    tally.wait(timeout=sized(120, 240))
    figures = tally.check(http, chaos_stack)
    assert decisions.longest_try(down_at, thawed_at) > 0, "no decision met the fault"
    longest_down = decisions.longest_try(down_at, frozen_at)
    longest_frozen = decisions.longest_try(frozen_at, thawed_at)
    figures.notes.update(
        refused_seconds=outage,
        hung_seconds=hang,
        longest_decision_refused=round(longest_down, 1),
        longest_decision_hung=round(longest_frozen, 1),
        longest_readyz_refused=max(p[0] for p in refused),
        longest_readyz_hung=max(p[0] for p in hung),
        decision_outcomes=decisions.outcomes(),
        readyz_refused=sorted({str(status) for _, status in refused}),
        readyz_hung=sorted({str(status) for _, status in hung}),
    )
    assert max(p[0] for p in refused + hung) < ANSWER_WITHIN, f"/readyz: {refused} {hung}"
    assert longest_down < ANSWER_WITHIN, f"a decision waited {longest_down:.1f} s (refused)"


def test_a_pooled_connection_does_not_hold_a_request(chaos_stack: ChaosStack) -> None:
    assert chaos_stack.database is not None
    http = chaos_stack.hr()
    for _ in range(3):  # the api's pool now holds a live connection
        assert http.get("/jobs").status_code == 200
    hang = ANSWER_WITHIN + 5  # PostgreSQL answers again after this
    chaos_stack.database.freeze()
    thaw = threading.Timer(hang, chaos_stack.database.thaw)
    thaw.start()
    try:
        started = time.monotonic()
        with contextlib.suppress(httpx.HTTPError):
            http.get("/jobs", timeout=hang + 30)
        waited = time.monotonic() - started
    finally:
        thaw.cancel()
        chaos_stack.database.thaw()
    assert waited < ANSWER_WITHIN, f"a request waited {waited:.1f} s on a hung PostgreSQL"
