"""Latency from an HTTP decision to its email accepted by the SMTP server.

Starts the real stack (uvicorn, both Celery workers, beat) on the configured DATABASE_URL and
BROKER_URL (a fresh database is made for the run), with an aiosmtpd server in this process.
Validates applications at a steady rate; each validation emails its candidate, and the
latency is from just before the HTTP request to the SMTP server's acceptance of that email.

The same run measures two baselines on the same machine and SMTP server:
  - smtp: a bare aiosmtplib send over one open connection (the floor of the email leg);
  - http: the validation request's own response time (the API's share).
Then the decision route's throughput (8 clients in a closed loop, --decisions requests) against
a bare FastAPI + SQLAlchemy insert route (bench.bare_insert) on the same database, measured
before and after it.

Usage: python -m bench.decision_latency [--rate 20] [--seconds 15] [--warmup 20] [--decisions 400]
Goal on Redis: p50 <= 30 ms, p99 <= 150 ms (the filesystem broker polls, so expect more); the
decisions at >= 0.6x the bare inserts' rate.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx

from bench.harness import running_stack
from bench.table import Row, quick, report, row
from tests.mailbox import SmtpServer, free_port
from tests.stack import Stack, wait_until_healthy


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
        "mean_ms": round(statistics.fmean(values) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def bare_smtp_latencies(port: int, count: int) -> list[float]:
    """Send `count` messages over one aiosmtplib connection; time each send."""

    async def run() -> list[float]:
        latencies = []
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
            for n in range(count):
                message = EmailMessage()
                message["From"] = "rh@commune.example"
                message["To"] = f"baseline{n}@example.org"
                message["Subject"] = "baseline"
                message.set_content("Bonjour")
                started = time.perf_counter()
                await smtp.send_message(message)
                latencies.append(time.perf_counter() - started)
        return latencies

    return asyncio.run(run())


def prepare(http: httpx.Client, count: int) -> list[tuple[str, str]]:
    """Create a job and `count` applications; returns (application id, candidate email)."""
    job = http.post(
        "/api/v1/jobs", json={"title": "Bench", "reference": f"BENCH-{time.time()}", "year": 2026}
    ).json()
    applications = []
    for n in range(count):
        email = f"bench{n}-{time.monotonic_ns()}@example.org"
        body = {
            "kind": "specific",
            "job_id": job["id"],
            "candidate": {"first_name": "Bench", "last_name": str(n), "email": email},
        }
        response = http.post("/api/v1/applications", json=body)
        response.raise_for_status()
        applications.append((response.json()["id"], email))
    return applications


def drive(
    stack: Stack, headers: dict[str, str], smtp: SmtpServer, applications: list[Any], rate: float
) -> tuple[list[float], list[float]]:
    """Validate at a steady rate; returns end-to-end and HTTP latencies (seconds)."""
    sent_at: dict[str, float] = {}
    http_latencies: list[float] = []
    lock = threading.Lock()
    local = threading.local()

    def validate(application_id: str, email: str) -> None:
        if not hasattr(local, "http"):
            local.http = httpx.Client(base_url=stack.base_url, headers=headers, timeout=30)
        started = time.time()
        with lock:
            sent_at[email] = started
        response = local.http.post(f"/api/v1/applications/{application_id}/validate")
        response.raise_for_status()
        with lock:
            http_latencies.append(time.time() - started)

    smtp.mailbox.clear()
    interval = 1 / rate
    begin = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for n, (application_id, email) in enumerate(applications):
            delay = begin + n * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(validate, application_id, email)
    received = smtp.mailbox.wait_for(len(applications), timeout=120)
    accepted = {m.rcpt_tos[0]: m.at for m in received}
    return [accepted[email] - sent_at[email] for _, email in applications], http_latencies


def throughput(base_url: str, path_of: Any, count: int, headers: dict[str, str]) -> float:
    """Requests per second: `count` POSTs to `path_of(n)`, from 8 clients in a closed loop."""
    local = threading.local()

    def one(n: int) -> None:
        if not hasattr(local, "http"):
            local.http = httpx.Client(base_url=base_url, headers=headers, timeout=30)
        local.http.post(path_of(n), json={"n": n}).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(count)))
    return count / (time.perf_counter() - started)


def start_bare_insert(stack: Stack) -> str:
    """The bare FastAPI + SQLAlchemy insert route (bench.bare_insert), in its own uvicorn
    process on the stack's database and settings; its base URL."""
    port = free_port()
    stack.processes["bare_insert"] = subprocess.Popen(
        [sys.executable, "-m", "bench.bare_insert", str(port)], env=stack.env
    )
    base_url = f"http://127.0.0.1:{port}"
    wait_until_healthy(base_url, stack, path="/docs")
    return base_url


def measure(rate: float, seconds: float, warmup: int, decisions: int) -> list[Row]:
    with running_stack(OUTBOX_RELAY_SECONDS="5") as run:
        stack, smtp, url = run.stack, run.smtp, run.database_url
        headers = stack.create_api_key("hr")
        http = httpx.Client(base_url=stack.base_url, headers=headers, timeout=30)
        count = int(rate * seconds)
        warm = prepare(http, warmup)
        measured = prepare(http, count)
        drive(stack, headers, smtp, warm, rate)
        end_to_end, http_only = drive(stack, headers, smtp, measured, rate)
        baseline = bare_smtp_latencies(smtp.port, count)

        # Throughput: the decision route against the bare insert route, the bare one measured
        # before and after (the machine's speed drifts within a run), the mean as baseline.
        bare_url = start_bare_insert(stack)
        to_decide = [application_id for application_id, _ in prepare(http, decisions)]
        bare = [throughput(bare_url, lambda n: "/rows", decisions, {})]
        decided = throughput(
            stack.base_url,
            lambda n: f"/api/v1/applications/{to_decide[n]}/validate",
            decisions,
            headers,
        )
        bare.append(throughput(bare_url, lambda n: "/rows", decisions, {}))

    print(
        f"broker {(os.environ.get('BROKER_URL') or 'filesystem').split('@')[-1]}, {url.split('://')[0]}"
    )
    for name, values in (
        ("decision to SMTP", end_to_end),
        ("baseline: HTTP response", http_only),
        ("baseline: bare SMTP send", baseline),
    ):
        row_ = summary(values)
        print(
            f"  {name:<24} n={row_['n']:<5} p50={row_['p50_ms']:>7} ms  p99={row_['p99_ms']:>7} ms"
        )
    print(f"  decisions {decided:.0f}/s, bare insert {' and '.join(f'{b:.0f}' for b in bare)}/s")
    smtp_p50, smtp_p99 = percentile(baseline, 50) * 1000, percentile(baseline, 99) * 1000
    return [
        row("decision_to_email_p50_ms", percentile(end_to_end, 50) * 1000, "ms", "<= 30", smtp_p50),
        row(
            "decision_to_email_p99_ms", percentile(end_to_end, 99) * 1000, "ms", "<= 150", smtp_p99
        ),
        row(
            "decision_http_vs_bare_insert", decided, "requests/s", ">= 0.6x", statistics.mean(bare)
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20, help="decisions per second")
    parser.add_argument("--seconds", type=float, default=3 if quick() else 15)
    parser.add_argument("--warmup", type=int, default=5 if quick() else 20)
    parser.add_argument("--decisions", type=int, default=40 if quick() else 400)
    args = parser.parse_args()
    report(measure(args.rate, args.seconds, args.warmup, args.decisions))


if __name__ == "__main__":
    main()
