"""The global send rate holds across processes, on the file bucket and on Redis."""

import multiprocessing
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from services.notifier.rate import (
    FileBucket,
    NoLimit,
    RedisBucket,
    bucket_for,
    next_instant,
    wait_for_turn,
)
from shared.settings import Settings
from tests.mailbox import free_port

RATE = 20.0  # bursts of 20, then one message every 50 ms
PROCESSES, EACH = 3, 15


def _take_turns(kind: str, where: str, count: int, start_at: float, out: Any) -> None:
    if kind == "file":
        bucket: FileBucket | RedisBucket = FileBucket(Path(where), RATE)
    else:
        url, key = where.split(" ")
        bucket = RedisBucket(url, RATE, key=key)
    time.sleep(max(0.0, start_at - time.time()))
    for _ in range(count):
        time.sleep(bucket.reserve())
        out.put(time.time())


def _turns_in_processes(kind: str, where: str) -> list[float]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    start_at = time.time() + 2  # every process is up before the first turn
    workers = [
        context.Process(target=_take_turns, args=(kind, where, EACH, start_at, out))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    times = sorted(out.get(timeout=30) for _ in range(PROCESSES * EACH))
    for worker in workers:
        worker.join(timeout=10)
    return times


def _assert_token_bucket(times: list[float]) -> None:
    """Between the i-th and the j-th send, at most burst + rate × elapsed sends happened."""
    burst, tolerance = RATE, 0.02
    for i, early in enumerate(times):
        for j in range(i + 1, len(times)):
            allowed = (j - i - (burst - 1)) / RATE
            assert times[j] - early >= allowed - tolerance, (i, j, times[j] - early, allowed)
    # 45 sends with a burst of 20 take at least 25 intervals of 50 ms.
    assert times[-1] - times[0] >= (len(times) - burst) / RATE - tolerance


def test_gcra_arithmetic() -> None:
    interval, burst = 0.1, 3
    tat, waits = 0.0, []
    for _ in range(5):
        wait, tat = next_instant(tat, 100.0, interval, burst)
        waits.append(round(wait, 6))
    assert waits == [0, 0, 0, 0.1, 0.2]


def test_file_bucket_across_processes(tmp_path: Path) -> None:
    _assert_token_bucket(_turns_in_processes("file", str(tmp_path / "smtp-rate")))


@pytest.mark.redis_broker
def test_redis_bucket_across_processes() -> None:
    where = f"{os.environ['BROKER_URL']} recrue:test-rate:{uuid.uuid4()}"
    _assert_token_bucket(_turns_in_processes("redis", where))


def test_bucket_follows_the_settings(tmp_path: Path) -> None:
    assert isinstance(bucket_for(Settings(smtp_rate_per_second=0, broker_url="")), NoLimit)
    file_bucket = bucket_for(Settings(smtp_rate_per_second=5, var_dir=tmp_path, broker_url=""))
    assert isinstance(file_bucket, FileBucket) and file_bucket.path.parent == tmp_path
    redis_bucket = bucket_for(
        Settings(smtp_rate_per_second=5, broker_url="redis://127.0.0.1:6379/0")
    )
    assert isinstance(redis_bucket, RedisBucket)


def test_unreachable_redis_does_not_hold_mail_back() -> None:
    settings = Settings(smtp_rate_per_second=1, broker_url=f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    assert wait_for_turn(settings) == 0.0
    assert time.monotonic() - started < 5
