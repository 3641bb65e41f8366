"""Scenario 7: two beats run at once (a deployment mistake): their relays and sweeps race.

- On Redis, the api cannot reach the broker while HR validates applications: both beats' relays
  find the events and publish them.
- The notifier is stopped while a trial's invitations are queued: past DELIVERY_REDELIVER_SECONDS
  both beats' sweeps publish the waiting messages again, several times each; once the notifier
  is back every candidate still gets one invitation.
- Meanwhile CV bank profiles near the end of their retention: both beats' renewal sweeps run
  every second, and each candidate is asked once whether to keep theirs.
"""

import time

import pytest

from tests.builders import seed_dossiers
from tests.chaos.harness import (
    REDELIVER_SECONDS,
    ChaosStack,
    Decisions,
    Tally,
    address,
    cv_bank_profiles_nearing_their_end,
    invite_all,
    new_applications,
    new_job,
    run_id,
    sized,
)
from tests.mailbox import SmtpServer

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]


def test_two_beats_at_once(chaos_stack: ChaosStack, smtp: SmtpServer) -> None:
    run = run_id()
    invited = [address(run, n, "inv") for n in range(sized(20, 100))]
    renewed = [address(run, n, "cv") for n in range(sized(10, 50))]
    decided = (
        [address(run, n, "val") for n in range(sized(5, 40))]
        if chaos_stack.api_broker is not None
        else []
    )
    chaos_stack.start_second_beat()
    http = chaos_stack.hr()
    tally = Tally("two beats at once", smtp, invited + renewed + decided)

    if decided:
        assert chaos_stack.api_broker is not None
        job = new_job(http, run, "-V")
        applications = new_applications(http, job, decided)
        chaos_stack.api_broker.down()  # the api alone loses the broker: both relays publish
        decisions = Decisions(chaos_stack.base_url, dict(http.headers), applications)
        decisions.start().join(120)
        chaos_stack.api_broker.up()
        tally.figures.notes["longest_decision_broker_down"] = round(decisions.longest_try(), 1)

    chaos_stack.stop_gracefully("notifier")
    job = new_job(http, run, "-I")
    seed_dossiers(job, invited)
    invite_all(http, job)
    cv_bank_profiles_nearing_their_end(http, renewed)
    time.sleep(REDELIVER_SECONDS + sized(4, 10))  # a few sweeps of both beats
    chaos_stack.start("notifier")
    tally.healed()
    tally.wait(timeout=sized(60, 120))
    figures = tally.check(http, chaos_stack)
    figures.notes["beats"] = 2
