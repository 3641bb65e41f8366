"""Scenario 6: the SMTP server answers 421, 451, 550 and 554, and hangs after the data.

One decision invites every dossier of a job to a trial. While a fault window is open the server
answers 421 to every MAIL FROM (the whole batch waits for a retry); then, per recipient, it
refuses at RCPT with 550 (failed), refuses once with 451 (retried, then sent), answers 554 after
the data (failed), or keeps the data and never answers (unknown: it may have left, it is never
resent, HR sees it in /notices).
"""

import threading
import time

import pytest

from tests.builders import seed_dossiers
from tests.chaos.harness import (
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

FAULTS = {1: "550", 2: "554", 3: "hang", 4: "451"}  # by n % 10; the others are accepted


def test_smtp_answers_421_451_550_554_and_hangs(chaos_stack: ChaosStack, smtp: SmtpServer) -> None:
    count = sized(20, 100)
    run = run_id()
    tags = {n: FAULTS.get(n % 10, "") for n in range(count)}
    recipients = [address(run, n, tags[n]) for n in range(count)]
    refused_once: set[str] = set()
    lock = threading.Lock()

    def rcpt(to: str) -> str | None:
        if "550-" in to:
            return "550 5.1.1 Recipient address rejected: user unknown"
        if "451-" in to:
            with lock:
                if to not in refused_once:
                    refused_once.add(to)
                    return "451 4.7.1 Greylisted, try again later"
        return None

    smtp.faults.rcpt = rcpt
    smtp.faults.data = lambda to: "554 5.7.1 Message rejected as spam" if "554-" in to else None
    smtp.faults.hang_after_data = lambda to: "hang-" in to
    smtp.faults.mail = "421 4.3.2 Service shutting down, try later"

    http = chaos_stack.hr()
    job = new_job(http, run)
    seed_dossiers(job, recipients)
    tally = Tally("smtp 421/451/550/554/hang", smtp, recipients)
    invite_all(http, job)
    window = sized(2, 8)
    time.sleep(window)  # every attempt meets the 421
    refused_421 = sum(answer.startswith("421") for _, answer in smtp.faults.refused)
    smtp.faults.mail = None
    tally.healed()
    tally.wait(timeout=sized(60, 120))
    figures = tally.check(http, chaos_stack)
    figures.notes["421_answers"] = refused_421
    figures.notes["fault_window_seconds"] = window

    by_tag = {
        tag: [r for n, r in enumerate(recipients) if tags[n] == tag] for tag in FAULTS.values()
    }
    final = {r: rows[0][1] for r, rows in tally.states.items()}
    assert refused_421 > 0, "the 421 window met no attempt"
    assert {final[r] for r in by_tag["550"] + by_tag["554"]} == {"failed"}
    assert {final[r] for r in by_tag["hang"]} == {"unknown"}
    accepted = [r for n, r in enumerate(recipients) if tags[n] in ("", "451")]
    assert {final[r] for r in accepted} == {"sent"}
    assert refused_once == set(by_tag["451"]), "each 451 recipient was refused once, then sent"
