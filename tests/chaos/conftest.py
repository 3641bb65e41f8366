"""The chaos suite's fixtures: its own SMTP server, a private Redis, a stack per scenario, and
the figures of the run written to var/chaos/ at the end."""

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.harness import (
    QUICK,
    RESULTS,
    ChaosStack,
    PrivateRedis,
    backend_name,
    redis_broker,
    start_chaos_stack,
)
from tests.mailbox import SmtpServer

RESULTS_DIR = Path(__file__).resolve().parents[2] / "var" / "chaos"


@pytest.fixture(scope="session")
def chaos_smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.faults.hang_seconds = 10  # longer than SMTP_TIMEOUT and the send deadline
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def private_redis(tmp_path_factory: Any) -> Iterator[PrivateRedis | None]:
    """On the Redis run: a redis-server of the suite's own (never the machine's)."""
    if not redis_broker():
        yield None
        return
    redis = PrivateRedis(tmp_path_factory.mktemp("redis"))
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def smtp(chaos_smtp: SmtpServer) -> SmtpServer:
    chaos_smtp.faults.clear()
    chaos_smtp.mailbox.clear()
    return chaos_smtp


_started: list[ChaosStack] = []


@pytest.fixture(scope="session")
def shared_stack(
    chaos_smtp: SmtpServer, private_redis: PrivateRedis | None, tmp_path_factory: Any
) -> Iterator[ChaosStack]:
    """The real processes, started once for the suite (a start costs seconds on a busy
    machine); each scenario heals what the previous one broke. Stopped after the suite's last
    scenario (see below), not at the end of the session."""
    if private_redis is not None:
        private_redis.flush()
    stack = start_chaos_stack(tmp_path_factory.mktemp("chaos"), chaos_smtp, private_redis)
    _started.append(stack)
    yield stack
    stack.stop()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last chaos scenario: stop the stack, so that its beat never acts on what the
    tests after it write to the same database (they run in the same session in `make test`)."""
    if nextitem is not None and Path(__file__).parent in Path(nextitem.path).parents:
        return
    while _started:
        _started.pop().stop()


@pytest.fixture
def chaos_stack(shared_stack: ChaosStack, smtp: SmtpServer) -> Iterator[ChaosStack]:
    shared_stack.heal()
    yield shared_stack
    smtp.faults.clear()
    shared_stack.heal()


@pytest.fixture(scope="session", autouse=True)
def chaos_results() -> Iterator[None]:
    """Write the figures of this run to var/chaos/results.json (results-quick.json in quick
    mode), one entry per backend, keeping the other backend's last figures."""
    started = time.time()
    yield
    if not RESULTS:
        return
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / ("results-quick.json" if QUICK else "results.json")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    data[backend_name()] = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "quick": QUICK,
        "cpus": os.cpu_count(),
        "seconds": round(time.time() - started, 1),
        "scenarios": [f.as_json() for f in RESULTS],
    }
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
