"""`make bench` in quick mode (BENCH_QUICK=1): every goal's row is measured and written.

Timings are not asserted (this machine's speed is not the bench's subject here); what is: each
row is there once with a number, its `met` follows from its goal, and the correctness rows hold.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.table import met

ROWS = {
    "decision_to_email_p50_ms",
    "decision_to_email_p99_ms",
    "decision_http_vs_bare_insert",
    "lists_10k_p99_ms",
    "deadline_sweep_100k_ms",
    "invitations_2000_vs_bare_loop",
    "postponement_2000_vs_invitations",
    "worker_rss_mb",
    "bookings_500_p99_vs_noop_p99",
    "booking_api_cpu_ms",
    "double_bookings",
    "bookings_sustained_100_per_s_p99_ms",
}


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_quick_bench_writes_every_row(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    env = {**os.environ, "BENCH_QUICK": "1", "BENCH_RESULTS": str(results)}
    finished = subprocess.run(
        [sys.executable, "-m", "bench"], env=env, capture_output=True, text=True, timeout=880
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]

    rows = json.loads(results.read_text())
    assert sorted(r["name"] for r in rows) == sorted(ROWS)
    for r in rows:
        assert set(r) == {"name", "value", "unit", "baseline", "ratio", "goal", "met"}
        assert isinstance(r["value"], int | float) and r["value"] >= 0, r
        assert isinstance(r["met"], bool), r
        assert r["met"] == met(r["value"], r["ratio"], r["goal"]), r
        if r["goal"].endswith("x"):
            assert r["baseline"] > 0 and r["ratio"] == pytest.approx(
                r["value"] / r["baseline"], rel=0.01
            ), r
    assert next(r for r in rows if r["name"] == "double_bookings")["value"] == 0
    assert "| double_bookings |" in finished.stdout  # the one table, printed at the end


def test_met_reads_the_goal_as_a_bound_on_the_value_or_on_the_ratio() -> None:
    assert met(150, None, "<= 150") and not met(151, None, "<= 150")
    assert met(0.5, 2.9, "<= 3x") and not met(0.5, 3.1, "<= 3x")
    assert met(90, 1.0, ">= 1.0x") and not met(90, 0.99, ">= 1.0x")
    assert met(0, None, "== 0") and not met(1, None, "== 0")
    with pytest.raises(ValueError):
        met(1, None, "<= 3x")  # a relative goal needs a baseline
