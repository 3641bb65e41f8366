"""Trials at scale: 2,000 invitations, a 2,000-participant postponement, 500 concurrent bookings.

Starts the real stack (api, both workers, beat) on the configured DATABASE_URL and BROKER_URL
with an aiosmtpd server in this process, seeds --candidates open dossiers for one job, then:
  1. invites them all to a fixed-time trial: time from the API call to the last invitation
     accepted by the SMTP server;
  2. postpones the trial: time to the last update accepted;
  3. baseline in the same run: a bare aiosmtplib loop sending as many messages of the same
     size over one connection to the same server, once after each of the two (their mean;
     goal: the stack at >= 1.0x its rate);
  4. a slot trial of --slots slots (capacity 5) invites --bookers candidates, who all book at
     once: their p99 against that of as many GET /healthz at once (the floor), the API's CPU
     per booking, and 0 double bookings;
  5. another slot trial, booked by open-loop arrivals at --rate a second for --seconds: p99.
While the invitations go out, the largest notifier or scheduler process's memory is sampled.

Usage: python -m bench.trial_invitations [--candidates 2000] [--bookers 500] [--slots 100]
       [--rate 100] [--seconds 30]
"""

import argparse
import asyncio
import os
import re
import statistics
import time
import uuid
from datetime import date, timedelta
from email.message import EmailMessage
from urllib.parse import urlencode, urlsplit

import aiosmtplib
import httpx

from bench.harness import SERVER, PeakMemory, Run, cpu_seconds, running_stack
from bench.table import Row, quick, report, row
from tests.builders import seed_dossiers
from tests.mailbox import SmtpServer

LINK = re.compile(r"https?://\S+/c/(?!privacy/)[A-Za-z0-9_.\-]+")


def seed(job_id: uuid.UUID, count: int) -> None:
    """`count` candidates with a validated application and an open dossier for the job."""
    addresses = [f"b{n}-{job_id.hex[:6]}@example.org" for n in range(count)]
    seed_dossiers(job_id, addresses, first_name="Bench")


def bare_loop(port: int, template: bytes, count: int) -> float:
    """Seconds a bare aiosmtplib loop takes to send `count` messages over one connection.

    It runs in this process, beside the SMTP server: sending from a process of its own, as the
    notifier does, made it slower (352-371 against 400-415 messages a second, alternated,
    2026-12-01; see bench/README.md), so this is the stricter baseline."""

    async def run() -> float:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
            started = time.perf_counter()
            for n in range(count):
                await smtp.sendmail("rh@recrue.local", [f"loop{n}@example.org"], template)
            return time.perf_counter() - started

    return asyncio.run(run())


def wait_count(smtp: SmtpServer, count: int, timeout: float) -> tuple[float, float]:
    """The arrival times of the first and of the `count`-th message (the server notes each
    one's). Looked at every 50 ms, not woken at each message: the SMTP server then has this
    process's interpreter lock to itself, as during the bare loop."""
    deadline = time.monotonic() + timeout
    while len(smtp.mailbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    received = smtp.mailbox.wait_for(count, timeout=0)
    return min(m.at for m in received), max(m.at for m in received)


def measure(
    candidates: int, bookers: int, slots: int, sustained_rate: float, seconds: float
) -> list[Row]:
    report: dict[str, str] = {}
    with running_stack(OUTBOX_RELAY_SECONDS="5") as run:
        stack, smtp, url = run.stack, run.smtp, run.database_url
        http = httpx.Client(base_url=stack.base_url, headers=stack.create_api_key(), timeout=600)
        job = http.post(
            "/api/v1/jobs", json={"title": "Bench", "reference": "BENCH-T", "year": 2027}
        ).json()
        seed(uuid.UUID(job["id"]), candidates)
        trial = http.post(
            f"/api/v1/jobs/{job['id']}/trials",
            json={
                "kind": "written",
                "title": "Écrit",
                "starts_at": "2027-03-28T10:00:00+02:00",
                "duration_minutes": 120,
                "location": "Hall",
                "info": "Stylo",
            },
        ).json()

        smtp.mailbox.clear()
        before = cpu_seconds(stack)
        started = time.time()
        with PeakMemory(stack, "notifier", "scheduler") as memory:
            http.post(
                f"/api/v1/trials/{trial['id']}/invitations", json={"all_eligible": True}
            ).raise_for_status()
            answered_seconds = time.time() - started
            first, last = wait_count(smtp, candidates, timeout=900)
        invite_seconds, first_seconds = last - started, first - started
        after = cpu_seconds(stack)
        sample = smtp.mailbox.messages[0].message.as_bytes()
        # The loop runs between the two measurements and after them: the machine's speed drifts
        # within a run, and the baseline is their mean.
        server_before = cpu_seconds(stack)[SERVER]
        loops = [bare_loop(smtp.port, sample, candidates)]
        server_in_loop = cpu_seconds(stack)[SERVER] - server_before

        smtp.mailbox.clear()
        started = time.time()
        http.post(
            f"/api/v1/trials/{trial['id']}/postpone",
            json={"starts_at": "2027-03-29T10:00:00+02:00"},
        ).raise_for_status()
        postpone_seconds = wait_count(smtp, candidates, timeout=900)[1] - started
        loops.append(bare_loop(smtp.port, sample, candidates))
        loop_seconds = statistics.mean(loops)

        n = candidates
        report["  the API answered the invitation request after"] = f"{answered_seconds:.1f} s"
        report["  first invitation accepted after"] = f"{first_seconds:.1f} s"
        report[f"baseline: bare aiosmtplib loop, {n} messages of {len(sample)} bytes"] = (
            f"{loop_seconds:.1f} s ({' and '.join(f'{s:.1f}' for s in loops)} s)"
        )
        report[f"  CPU of the first loop: {SERVER} and the loop"] = (
            f"{server_in_loop:.1f} s ({server_in_loop / n * 1000:.1f} ms per message)"
        )
        for name in after:  # where the invitations' time went
            spent = after[name] - before[name]
            report[f"  CPU of the invitations: {name}"] = (
                f"{spent:.1f} s ({spent / n * 1000:.1f} ms per message)"
            )
        burst = bookings(run, http, bookers, slots)
        sustained = sustained_bookings(run, http, sustained_rate, seconds)
    print(f"database {url.split('://')[0]}, broker {os.environ.get('BROKER_URL') or 'filesystem'}")
    for name, value in report.items():
        print(f"  {name:<62} {value}")
    return [
        row(
            "invitations_2000_vs_bare_loop",
            n / invite_seconds,
            "emails/s",
            ">= 1.0x",
            n / loop_seconds,
        ),
        row("postponement_2000_vs_invitations", postpone_seconds, "s", "<= 1.2x", invite_seconds),
        row("worker_rss_mb", memory.peak_mb, "MB", "<= 150"),
        *burst,
        sustained,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=100 if quick() else 2000)
    parser.add_argument("--bookers", type=int, default=50 if quick() else 500)
    parser.add_argument("--slots", type=int, default=10 if quick() else 100)
    parser.add_argument("--rate", type=float, default=20 if quick() else 100, help="bookings/s")
    parser.add_argument("--seconds", type=float, default=2 if quick() else 30)
    args = parser.parse_args()
    report(measure(args.candidates, args.bookers, args.slots, args.rate, args.seconds))


def _link(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(LINK.findall(body.get_content())[0])


async def _request(url: str, form: dict[str, str] | None = None) -> int:
    """POST a form (or GET without one) over a new connection, as a browser would; returns the
    status. A bare HTTP/1.1 client on asyncio: this process's own CPU stays out of the
    latencies (a client library in 500 threads spends more CPU than the server it measures)."""
    parts = urlsplit(url)
    body = urlencode(form).encode() if form is not None else b""
    head = f"{'GET' if form is None else 'POST'} {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
    if form is not None:
        head += (
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        )
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(f"{head}Connection: close\r\n\r\n".encode() + body)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    await reader.read()  # the page, until the server closes
    writer.close()
    return status


async def _all_at_once(
    links: list[str], forms: list[dict[str, str]] | list[None]
) -> list[tuple[int, float]]:
    """Every request starts at the same moment; (status, seconds) of each."""
    go = asyncio.Event()

    async def one(link: str, form: dict[str, str] | None) -> tuple[int, float]:
        await go.wait()
        started = time.perf_counter()
        status = await _request(link, form)
        return status, time.perf_counter() - started

    waiting = [
        asyncio.create_task(one(link, form)) for link, form in zip(links, forms, strict=True)
    ]
    await asyncio.sleep(0.1)  # every task is waiting on the event
    go.set()
    return list(await asyncio.gather(*waiting))


def _p99(answers: list[tuple[int, float]]) -> float:
    """The 99th percentile latency, in ms."""
    latencies = sorted(seconds for _, seconds in answers)
    return latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000


def _slot_trial(
    run: Run, http: httpx.Client, reference: str, bookers: int, slots: int, capacity: int
) -> tuple[str, list[str], list[str]]:
    """A slot trial of `slots` slots of `capacity` seats, with `bookers` candidates invited:
    its id, its slots' ids and each candidate's booking link (from the invitation email)."""
    job = http.post(
        "/api/v1/jobs", json={"title": "Oral", "reference": reference, "year": 2027}
    ).json()
    seed(uuid.UUID(job["id"]), bookers)
    first_day = date(2027, 6, 1)
    days = [first_day + timedelta(days=n) for n in range((slots + 19) // 20)]  # 20 slots a day
    windows = [{"start": f"{day}T08:00:00+02:00", "end": f"{day}T18:00:00+02:00"} for day in days]
    trial = http.post(
        f"/api/v1/jobs/{job['id']}/trials",
        json={
            "kind": "oral",
            "title": "Oral",
            "booking": {"slot_minutes": 30, "capacity": capacity, "windows": windows},
        },
    ).json()
    listed = http.get(f"/api/v1/trials/{trial['id']}/slots").json()["items"]
    slot_ids = [s["id"] for s in listed][:slots]
    run.smtp.mailbox.clear()
    http.post(
        f"/api/v1/trials/{trial['id']}/invitations", json={"all_eligible": True}
    ).raise_for_status()
    links = [_link(m.message) for m in run.smtp.mailbox.wait_for(bookers, timeout=900)]
    return trial["id"], slot_ids, links


def _double_bookings(http: httpx.Client, trial_id: str) -> int:
    """Seats taken beyond a slot's capacity, plus any difference between the seats counted
    taken and the participations accepted."""
    after = http.get(f"/api/v1/trials/{trial_id}/slots").json()["items"]
    accepted = sum(
        p["status"] == "accepted"
        for p in http.get(f"/api/v1/trials/{trial_id}/participations").json()["items"]
    )
    over = sum(max(0, s["booked"] - s["capacity"]) for s in after)
    return over + abs(sum(s["booked"] for s in after) - accepted)


def bookings(run: Run, http: httpx.Client, bookers: int, slots: int) -> list[Row]:
    """`bookers` candidates book at once on `slots` slots of 5 seats."""
    stack = run.stack
    trial_id, slot_ids, links = _slot_trial(run, http, "BENCH-O", bookers, slots, 5)
    forms = [
        {"action": "book_slot", "slot_id": slot_ids[n % len(slot_ids)]} for n in range(bookers)
    ]
    # The floor: as many requests at once to the same server that do nothing (GET /healthz).
    floor = asyncio.run(_all_at_once([f"{stack.base_url}/healthz"] * bookers, [None] * bookers))
    before = cpu_seconds(stack)
    answers = asyncio.run(_all_at_once(links, forms))
    api_cpu = cpu_seconds(stack)["api"] - before["api"]
    codes = [status for status, _ in answers]
    print(
        f"  {bookers} bookings at once on {len(slot_ids)} slots of 5: {codes.count(200)} booked,"
        f" {codes.count(409)} refused; p99 {_p99(answers):.0f} ms, floor p99 {_p99(floor):.0f} ms"
    )
    return [
        row("bookings_500_p99_vs_noop_p99", _p99(answers), "ms", "<= 3x", _p99(floor)),
        row("booking_api_cpu_ms", api_cpu / bookers * 1000, "ms", "<= 4"),
        row("double_bookings", _double_bookings(http, trial_id), "seats", "== 0"),
    ]


def sustained_bookings(run: Run, http: httpx.Client, rate: float, seconds: float) -> Row:
    """Open-loop arrivals: a booking every 1/rate s for `seconds`, whatever the answers; each
    latency counts from its planned start (a late start is the server's delay too)."""
    count = int(rate * seconds)
    trial_id, slot_ids, links = _slot_trial(run, http, "BENCH-S", count, (count + 19) // 20, 20)

    async def arrive() -> list[tuple[int, float]]:
        begin = time.perf_counter() + 0.1

        async def one(n: int) -> tuple[int, float]:
            planned = begin + n / rate
            await asyncio.sleep(planned - time.perf_counter())
            form = {"action": "book_slot", "slot_id": slot_ids[n % len(slot_ids)]}
            status = await _request(links[n], form)
            return status, time.perf_counter() - planned

        return list(await asyncio.gather(*(one(n) for n in range(count))))

    answers = asyncio.run(arrive())
    refused = [status for status, _ in answers if status != 200]
    if refused or _double_bookings(http, trial_id):
        raise AssertionError(f"sustained bookings: {len(refused)} not booked: {refused[:5]}")
    return row("bookings_sustained_100_per_s_p99_ms", _p99(answers), "ms", "<= 200")


if __name__ == "__main__":
    main()
