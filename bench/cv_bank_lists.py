"""How fast the CV bank and dossier lists answer with 10,000 applications.

Seeds a fresh database (DATABASE_URL's server, or SQLite) with --count applications spread over
20 jobs (a third spontaneous, a quarter validated into dossiers), starts the real API process,
and times each list request: p50 and p99 over --repeat calls (with 200, the p99 is not just the
slowest call). Baselines measured in the same run: GET /healthz (the HTTP floor) and the bare
SQL count behind the busiest filter.

Usage: python -m bench.cv_bank_lists [--count 10000] [--repeat 200]
"""

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select

from bench.table import Row, quick, report
from bench.table import row as table_row
from tests.database import fresh_database
from tests.mailbox import free_port
from tests.stack import Stack, wait_until_healthy

FIRST = ["Élise", "Jan", "Lotte", "Thomas", "Sofie", "Karim", "Anna", "Luc", "Inès", "Pieter"]
LAST = ["Dupont", "Peeters", "Maes", "Janssens", "Lambert", "Dubois", "Mertens", "Willems"]


def seed(count: int) -> None:
    """Insert jobs, candidates, applications and dossiers in bulk."""
    from shared.db import get_engine
    from shared.models import Application, Candidate, Dossier, Job, utcnow
    from shared.models.candidate import search_text

    rng = random.Random(7)
    now = utcnow()
    jobs = [
        {
            "id": uuid.uuid4(),
            "title": f"Poste {n}",
            "reference": f"BENCH-{n}",
            "year": 2025 + n % 2,
            "campaign": "printemps" if n % 2 else "automne",
            "status": "open",
            "created_at": now,
            "updated_at": now,
        }
        for n in range(20)
    ]
    candidates: list[dict[str, object]] = []
    applications: list[dict[str, object]] = []
    dossiers: list[dict[str, object]] = []
    for n in range(count):
        created = now - timedelta(minutes=count - n)
        candidate_id = uuid.uuid4()
        first, last, email = rng.choice(FIRST), f"{rng.choice(LAST)}{n}", f"c{n}@example.org"
        candidates.append(
            {
                "id": candidate_id,
                "first_name": first,
                "last_name": last,
                "email": email,
                "search_text": search_text(first, last, email),  # a bulk insert: no ORM event
                "language": rng.choice(["fr", "nl", "de", "en"]),
                "created_at": created,
                "updated_at": created,
            }
        )
        spontaneous = n % 3 == 0
        job = None if spontaneous else rng.choice(jobs)
        validated = not spontaneous and n % 4 == 0
        application_id = uuid.uuid4()
        applications.append(
            {
                "id": application_id,
                "kind": "spontaneous" if spontaneous else "specific",
                "job_id": job["id"] if job else None,
                "candidate_id": candidate_id,
                "profile": {},
                "status": "validated" if validated else rng.choice(["submitted", "resubmitted"]),
                "created_at": created,
                "updated_at": created,
            }
        )
        if validated and job:
            dossiers.append(
                {
                    "id": uuid.uuid4(),
                    "application_id": application_id,
                    "candidate_id": candidate_id,
                    "job_id": job["id"],
                    "status": "open",
                    "applied_at": created,
                    "created_at": created,
                    "updated_at": created,
                }
            )
    with get_engine().begin() as connection:
        for model, rows in (
            (Job, jobs),
            (Candidate, candidates),
            (Application, applications),
            (Dossier, dossiers),
        ):
            for start in range(0, len(rows), 2000):
                connection.execute(insert(model), rows[start : start + 2000])


def cursor_at(http: httpx.Client, path: str, position: int) -> str:
    """The cursor of the page that starts at row `position`, found as a client would: by
    following `next_cursor` (pages of 500, and a last one to reach the position)."""
    cursor, seen = "", 0
    while seen < position:
        limit = min(500, position - seen)
        page = http.get(path, params={"limit": limit, **({"cursor": cursor} if cursor else {})})
        cursor, seen = page.json()["next_cursor"], seen + limit
    return cursor


def analyze() -> None:
    """Refresh the planner's statistics after the bulk seed, as autovacuum would a minute later
    (else it runs in the middle of the timings, and the first plans are made without them)."""
    from sqlalchemy import text

    from shared.db import get_engine

    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))


def timed(call, repeat: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples) * 1000, 1),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000, 1),
    }


def measure(count: int, repeat: int) -> list[Row]:
    var_dir = Path(tempfile.mkdtemp(prefix="recrue-bench-"))
    os.environ["VAR_DIR"] = str(var_dir)
    url, drop = fresh_database(os.environ.get("DATABASE_URL", ""), var_dir)
    os.environ["DATABASE_URL"] = url
    seed(count)
    analyze()
    port = free_port()
    stack = Stack(
        base_url=f"http://127.0.0.1:{port}",
        env={**os.environ, "API_PORT": str(port)},
        logs=var_dir,
    )
    stack.start("api", "api", "--port", str(port))
    try:
        wait_until_healthy(stack.base_url, stack)
        http = httpx.Client(base_url=stack.base_url, headers=stack.create_api_key(), timeout=30)
        job_id = http.get("/api/v1/jobs?limit=1").json()["items"][0]["id"]
        requests = {
            "baseline: GET /healthz": "/healthz",
            "applications, newest first": "/api/v1/applications?limit=50",
            "applications, status=submitted": "/api/v1/applications?status=submitted&limit=50",
            "applications, kind=spontaneous": "/api/v1/applications?kind=spontaneous&limit=50",
            "applications, one job": f"/api/v1/applications?job_id={job_id}&limit=50",
            "applications, q=janss (name search)": "/api/v1/applications?q=janss&limit=50",
            f"applications, page at {count * 9 // 10:,}": "/api/v1/applications?limit=50&cursor="
            + cursor_at(http, "/api/v1/applications", count * 9 // 10),
            "dossiers, year=2026": "/api/v1/dossiers?year=2026&limit=50",
            "dossiers, summary by job": "/api/v1/dossiers/summary?group_by=job",
        }
        results = {}
        for name, path in requests.items():
            assert http.get(path).status_code == 200, path
            results[name] = timed(lambda path=path: http.get(path).raise_for_status(), repeat)

        from shared.db import get_engine
        from shared.models import Application

        def bare_count() -> None:
            with get_engine().connect() as connection:
                connection.execute(
                    select(func.count()).where(Application.status == "submitted")
                ).scalar()

        results["baseline: bare SQL count(status)"] = timed(bare_count, repeat)
    finally:
        stack.stop()
        from shared.db import get_engine

        get_engine().dispose()
        drop()

    database = url.split("://")[0]
    print(f"{count:,} applications on {database}, {repeat} calls each")
    for name, row in results.items():
        print(f"  {name:<40} p50={row['p50_ms']:>7} ms  p99={row['p99_ms']:>7} ms")
    lists = {name: row for name, row in results.items() if not name.startswith("baseline")}
    worst = max(lists, key=lambda name: lists[name]["p99_ms"])
    print(f"  the worst: {worst}")
    floor = results["baseline: GET /healthz"]["p99_ms"]
    return [table_row("lists_10k_p99_ms", lists[worst]["p99_ms"], "ms", "<= 50", floor)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500 if quick() else 10_000)
    parser.add_argument("--repeat", type=int, default=5 if quick() else 200)
    args = parser.parse_args()
    report(measure(args.count, args.repeat))


if __name__ == "__main__":
    main()
