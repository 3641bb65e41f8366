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
     once: p50/p99 of the booking requests, and 0 double bookings.

Usage: python -m bench.trial_invitations [--candidates 2000] [--bookers 500] [--slots 100]
"""

import argparse
import asyncio
import os
import re
import statistics
import time
import uuid
from email.message import EmailMessage
from urllib.parse import urlencode, urlsplit

import aiosmtplib
import httpx

from bench.harness import Run, cpu_seconds, running_stack
from tests.builders import seed_dossiers
from tests.mailbox import SmtpServer

LINK = re.compile(r"https?://\S+/c/(?!privacy/)[A-Za-z0-9_.\-]+")


def seed(job_id: uuid.UUID, count: int) -> None:
    """`count` candidates with a validated application and an open dossier for the job."""
    addresses = [f"b{n}-{job_id.hex[:6]}@example.org" for n in range(count)]
    seed_dossiers(job_id, addresses, first_name="Bench")


def bare_loop(port: int, template: bytes, count: int) -> float:
    """Seconds a bare aiosmtplib loop takes to send `count` messages over one connection."""

    async def run() -> float:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
            started = time.perf_counter()
            for n in range(count):
                await smtp.sendmail("rh@recrue.local", [f"loop{n}@example.org"], template)
            return time.perf_counter() - started

    return asyncio.run(run())


def wait_count(smtp: SmtpServer, count: int, timeout: float) -> tuple[float, float]:
    """The arrival times of the first and of the `count`-th message."""
    received = smtp.mailbox.wait_for(count, timeout=timeout)
    return min(m.at for m in received), max(m.at for m in received)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--bookers", type=int, default=500)
    parser.add_argument("--slots", type=int, default=100)
    args = parser.parse_args()

    report: dict[str, str] = {}
    with running_stack(OUTBOX_RELAY_SECONDS="5") as run:
        stack, smtp, url = run.stack, run.smtp, run.database_url
        http = httpx.Client(base_url=stack.base_url, headers=stack.create_api_key(), timeout=600)
        job = http.post(
            "/api/v1/jobs", json={"title": "Bench", "reference": "BENCH-T", "year": 2027}
        ).json()
        seed(uuid.UUID(job["id"]), args.candidates)
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
        http.post(
            f"/api/v1/trials/{trial['id']}/invitations", json={"all_eligible": True}
        ).raise_for_status()
        answered_seconds = time.time() - started
        first, last = wait_count(smtp, args.candidates, timeout=900)
        invite_seconds, first_seconds = last - started, first - started
        after = cpu_seconds(stack)
        sample = smtp.mailbox.messages[0].message.as_bytes()
        # The loop runs between the two measurements and after them: the machine's speed drifts
        # within a run, and the baseline is their mean.
        loops = [bare_loop(smtp.port, sample, args.candidates)]

        smtp.mailbox.clear()
        started = time.time()
        http.post(
            f"/api/v1/trials/{trial['id']}/postpone",
            json={"starts_at": "2027-03-29T10:00:00+02:00"},
        ).raise_for_status()
        postpone_seconds = wait_count(smtp, args.candidates, timeout=900)[1] - started
        loops.append(bare_loop(smtp.port, sample, args.candidates))
        loop_seconds = statistics.mean(loops)

        n = args.candidates
        for name, seconds in (("invitation", invite_seconds), ("postponement", postpone_seconds)):
            ratio = loop_seconds / seconds
            report[f"{n} {name}s, API call to last email accepted"] = (
                f"{seconds:.1f} s ({n / seconds:.0f}/s, {ratio:.2f}x the bare loop)"
            )
        report["  the API answered the invitation request after"] = f"{answered_seconds:.1f} s"
        report["  first invitation accepted after"] = f"{first_seconds:.1f} s"
        report[f"baseline: bare aiosmtplib loop, {n} messages of {len(sample)} bytes"] = (
            f"{loop_seconds:.1f} s ({n / loop_seconds:.0f}/s; "
            f"{' and '.join(f'{s:.1f}' for s in loops)} s)"
        )
        for name in after:  # where the invitations' time went
            spent = after[name] - before[name]
            report[f"  CPU of the invitations: {name}"] = (
                f"{spent:.1f} s ({spent / n * 1000:.1f} ms per message)"
            )
        report.update(bookings(run, http, args.bookers, args.slots))
    print(f"database {url.split('://')[0]}, broker {os.environ.get('BROKER_URL') or 'filesystem'}")
    for name, value in report.items():
        print(f"  {name:<62} {value}")


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


def _percentiles(answers: list[tuple[int, float]]) -> str:
    latencies = sorted(seconds for _, seconds in answers)
    return (
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.0f} ms"
    )


def bookings(run: Run, http: httpx.Client, bookers: int, slots: int) -> dict[str, str]:
    """`bookers` candidates book at once on `slots` slots of 5 seats."""
    stack, smtp = run.stack, run.smtp
    job = http.post(
        "/api/v1/jobs", json={"title": "Oral", "reference": "BENCH-O", "year": 2027}
    ).json()
    seed(uuid.UUID(job["id"]), bookers)
    days = range(1, (slots + 19) // 20 + 1)  # 08:00-18:00 holds 20 slots of 30 minutes
    windows = [
        {"start": f"2027-06-{day:02d}T08:00:00+02:00", "end": f"2027-06-{day:02d}T18:00:00+02:00"}
        for day in days
    ]
    trial = http.post(
        f"/api/v1/jobs/{job['id']}/trials",
        json={
            "kind": "oral",
            "title": "Oral",
            "booking": {"slot_minutes": 30, "capacity": 5, "windows": windows},
        },
    ).json()
    slot_ids = [s["id"] for s in http.get(f"/api/v1/trials/{trial['id']}/slots").json()["items"]][
        :slots
    ]
    smtp.mailbox.clear()
    http.post(
        f"/api/v1/trials/{trial['id']}/invitations", json={"all_eligible": True}
    ).raise_for_status()
    links = [_link(m.message) for m in smtp.mailbox.wait_for(bookers, timeout=900)]
    forms = [
        {"action": "book_slot", "slot_id": slot_ids[n % len(slot_ids)]} for n in range(bookers)
    ]
    # The floor: as many requests at once to the same server that do nothing (GET /healthz).
    floor = asyncio.run(_all_at_once([f"{stack.base_url}/healthz"] * bookers, [None] * bookers))
    before = cpu_seconds(stack)
    answers = asyncio.run(_all_at_once(links, forms))
    api_cpu = cpu_seconds(stack)["api"] - before["api"]
    codes = [status for status, _ in answers]
    after = http.get(f"/api/v1/trials/{trial['id']}/slots").json()["items"]
    accepted = sum(
        p["status"] == "accepted"
        for p in http.get(f"/api/v1/trials/{trial['id']}/participations").json()["items"]
    )
    over = sum(s["booked"] > s["capacity"] for s in after)
    return {
        f"{bookers} concurrent bookings on {len(slot_ids)} slots of 5": (
            f"{_percentiles(answers)}, {codes.count(200)} booked, {codes.count(409)} refused"
        ),
        f"  baseline: {bookers} GET /healthz at once, same client and server": (
            f"{_percentiles(floor)}, {[s for s, _ in floor].count(200)} answered 200"
        ),
        "  CPU of the api process per booking": f"{api_cpu / bookers * 1000:.1f} ms",
        "double bookings (seats taken beyond capacity / booked != accepted)": (
            f"{over} / {sum(s['booked'] for s in after) - accepted}"
        ),
    }


if __name__ == "__main__":
    main()
