"""Latency from an HTTP decision to its email accepted by the SMTP server.

Starts the real stack (uvicorn, both Celery workers, beat) on the configured DATABASE_URL and
BROKER_URL (a fresh database is made for the run), with an aiosmtpd server in this process.
Validates applications at a steady rate; each validation emails its candidate, and the
latency is from just before the HTTP request to the SMTP server's acceptance of that email.

The same run measures two baselines on the same machine and SMTP server:
  - smtp: a bare aiosmtplib send over one open connection (the floor of the email leg);
  - http: the validation request's own response time (the API's share).

Usage: python -m bench.decision_latency [--rate 20] [--seconds 15] [--warmup 20]
Goal on Redis: p50 <= 30 ms, p99 <= 150 ms. The filesystem broker polls, so expect more.
"""

import argparse
import asyncio
import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx

from bench.harness import running_stack
from tests.mailbox import SmtpServer
from tests.stack import Stack

GOAL_P50_MS, GOAL_P99_MS = 30.0, 150.0


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20, help="decisions per second")
    parser.add_argument("--seconds", type=float, default=15, help="length of the measured run")
    parser.add_argument("--warmup", type=int, default=20, help="decisions before measuring")
    args = parser.parse_args()

    with running_stack(OUTBOX_RELAY_SECONDS="5") as run:
        stack, smtp, url = run.stack, run.smtp, run.database_url
        headers = stack.create_api_key("hr")
        http = httpx.Client(base_url=stack.base_url, headers=headers, timeout=30)
        count = int(args.rate * args.seconds)
        warmup = prepare(http, args.warmup)
        measured = prepare(http, count)
        drive(stack, headers, smtp, warmup, args.rate)
        end_to_end, http_only = drive(stack, headers, smtp, measured, args.rate)
        baseline = bare_smtp_latencies(smtp.port, count)

    broker = os.environ.get("BROKER_URL") or "filesystem (embedded)"
    report = {
        "broker": broker.split("@")[-1],
        "database": url.split("://")[0],
        "rate_per_s": args.rate,
        "decision_to_smtp": summary(end_to_end),
        "baseline_http_response": summary(http_only),
        "baseline_bare_smtp_send": summary(baseline),
        "goal_on_redis": {"p50_ms": GOAL_P50_MS, "p99_ms": GOAL_P99_MS},
    }
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / f"decision_latency-{int(time.time())}.json").write_text(json.dumps(report, indent=2))
    print(f"broker {report['broker']}, database {report['database']}, {args.rate:g} decisions/s")
    for name in ("decision_to_smtp", "baseline_http_response", "baseline_bare_smtp_send"):
        row = report[name]
        print(
            f"  {name:<24} n={row['n']:<5} p50={row['p50_ms']:>7} ms  p99={row['p99_ms']:>7} ms"
            f"  max={row['max_ms']:>7} ms"
        )
    print(f"  goal on Redis: p50 <= {GOAL_P50_MS:g} ms, p99 <= {GOAL_P99_MS:g} ms")


if __name__ == "__main__":
    main()
