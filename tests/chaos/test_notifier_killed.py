"""Scenario 2: the notifier is killed during a trial's bulk send (300 invitations in full mode).

First one process of its pool (SIGKILL: Celery replaces it and the broker gives its task to
another), then the whole worker (SIGKILL to the parent and every child, then a restart). The
send is paced by SMTP_RATE_PER_SECOND, so that both kills land in the middle of it.

A killed process may have been sending the group of messages it claimed: those end `unknown`
once their lease expires (they may have left; never resent automatically) and are listed in
/notices. Every other candidate gets the invitation exactly once.
"""

import time

import pytest

from services.notifier.delivery import GROUP
from tests.builders import seed_dossiers
from tests.chaos.harness import (
    NOTIFIER_PROCESSES,
    ChaosStack,
    Tally,
    address,
    invite_all,
    new_job,
    run_id,
    sized,
)
from tests.mailbox import SmtpServer

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]

DELAY = 0.2  # seconds the SMTP server takes to accept an email


def test_notifier_killed_during_a_bulk_send(chaos_stack: ChaosStack, smtp: SmtpServer) -> None:
    count = sized(30, 300)
    run = run_id()
    recipients = [address(run, n) for n in range(count)]
    http = chaos_stack.hr()
    job = new_job(http, run)
    seed_dossiers(job, recipients)
    tally = Tally("notifier SIGKILL: one child, then the whole worker", smtp, recipients)
    smtp.faults.delay_seconds = DELAY
    invite_all(http, job)

    smtp.mailbox.wait_for(count // 4, timeout=120)
    chaos_stack.kill_one_child("notifier")
    at_child_kill = len(smtp.mailbox.messages)
    smtp.mailbox.wait_for(count // 2, timeout=120)
    chaos_stack.kill("notifier")  # the parent and its whole pool
    at_worker_kill = len(smtp.mailbox.messages)
    time.sleep(1)
    chaos_stack.start("notifier")
    tally.healed()
    tally.wait(timeout=sized(120, 240))
    figures = tally.check(http, chaos_stack)
    figures.notes.update(
        received_at_child_kill=at_child_kill,
        received_at_worker_kill=at_worker_kill,
        smtp_delay_seconds=DELAY,
        notifier_processes=NOTIFIER_PROCESSES,
    )
    assert at_worker_kill < count, "the worker was killed after the send had finished"
    # At most the group each killed process had claimed may be unknown.
    assert figures.unknown <= GROUP * (1 + NOTIFIER_PROCESSES)
