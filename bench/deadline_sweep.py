"""A deadline sweep's tick with 100,000 open invitations, none due, and 1,000 past their deadline.

Seeds a fresh database (DATABASE_URL's server, or SQLite) with one fixed-time trial, --open
invitations whose answer deadline is 3 to 30 days away (inside the reminder sweep's horizon, but
no reminder due yet) and --due invitations whose deadline passed an hour ago. Then runs beat's
three deadline sweeps in this process, one tick after the other (as the scheduler would, on the
same database; the events they write are collected instead of published) until a tick handles
nothing. Then runs, as the scheduler's workers would, the calendar tasks the ticks wrote (they
build the expiry emails and their METHOD:CANCEL; timed apart, not part of a tick). The row is
the slowest tick; the due invitations must have expired exactly once each (one
`invitation_expired` email per participation), and no open one may have been touched.

Usage: python -m bench.deadline_sweep [--open 100000] [--due 1000]
"""

import argparse
import os
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.table import Row, quick, report, row
from tests.builders import seed_dossiers
from tests.database import fresh_database


def seed(open_count: int, due_count: int) -> None:
    from shared.db import get_engine
    from shared.models import Dossier, Job, Participation, Trial, utcnow

    now = utcnow()
    stamp = {"created_at": now - timedelta(days=10), "updated_at": now - timedelta(days=10)}
    job_id, trial_id = uuid.uuid4(), uuid.uuid4()
    with get_engine().begin() as connection:
        connection.execute(
            insert(Job),
            [{"id": job_id, "title": "Sweep", "reference": "BENCH-S", "year": 2027, **stamp}],
        )
        connection.execute(
            insert(Trial),
            [
                {
                    "id": trial_id,
                    "job_id": job_id,
                    "kind": "written",
                    "title": "Écrit",
                    "starts_at": now + timedelta(days=40),
                    "duration_minutes": 120,
                    "timezone": "Europe/Brussels",
                    **stamp,
                }
            ],
        )
    total = open_count + due_count
    seed_dossiers(job_id, [f"s{n}@example.org" for n in range(total)], first_name="Sweep")
    with get_engine().begin() as connection:
        dossier_ids = connection.scalars(select(Dossier.id).order_by(Dossier.id)).all()
        rows = [
            {
                "id": uuid.uuid4(),
                "trial_id": trial_id,
                "dossier_id": dossier_id,
                "status": "invited",
                "starts_at": now + timedelta(days=40),
                # Due ones first; the open ones spread over 3 to 30 days (a reminder 48 h before).
                "response_deadline": now - timedelta(hours=1)
                if n < due_count
                else now + timedelta(days=3) + timedelta(days=27) * (n / total),
                **stamp,
            }
            for n, dossier_id in enumerate(dossier_ids)
        ]
        for start in range(0, len(rows), 2000):
            connection.execute(insert(Participation), rows[start : start + 2000])


def tick() -> tuple[float, int]:
    """One tick of beat's deadline sweeps: (seconds, rows handled)."""
    from services.scheduler import deadlines

    events: list[object] = []
    started = time.perf_counter()
    handled = deadlines.send_reminders(publish=events.append)
    handled += deadlines.expire_unanswered(publish=events.append)
    handled += deadlines.expire_offers(publish=events.append)
    return time.perf_counter() - started, handled


def measure(open_count: int, due_count: int) -> list[Row]:
    var_dir = Path(tempfile.mkdtemp(prefix="recrue-bench-"))
    os.environ["VAR_DIR"] = str(var_dir)
    url, drop = fresh_database(os.environ.get("DATABASE_URL", ""), var_dir)
    os.environ["DATABASE_URL"] = url
    try:
        seed(open_count, due_count)
        ticks = [tick()]
        while ticks[-1][1]:
            ticks.append(tick())
        from tests.replies_flow import run_calendars

        started = time.perf_counter()
        run_calendars()
        emails_seconds = time.perf_counter() - started
        from shared.db import get_engine
        from shared.models import Message, Participation

        with get_engine().connect() as connection:
            statuses = dict(
                connection.execute(
                    select(Participation.status, func.count()).group_by(Participation.status)
                ).all()
            )
            emails = connection.scalar(
                select(func.count(Message.id)).where(Message.kind == "invitation_expired")
            )
    finally:
        from shared.db import get_engine

        get_engine().dispose()
        drop()
    handled = sum(n for _, n in ticks)
    if not (handled == emails == statuses.get("expired") == due_count):
        raise AssertionError(f"due ones not handled once: {handled=}, {emails=}, {statuses=}")
    if statuses.get("invited") != open_count:
        raise AssertionError(f"open invitations touched: {statuses=}")
    slowest = max(seconds for seconds, _ in ticks)
    print(
        f"deadline sweep, {open_count:,} open + {due_count:,} due on {url.split('://')[0]}: "
        f"ticks {', '.join(f'{s * 1000:.0f} ms ({n})' for s, n in ticks)}; then the calendar "
        f"tasks queued the {emails:,} expiry emails in {emails_seconds * 1000:.0f} ms"
    )
    return [row("deadline_sweep_100k_ms", slowest * 1000, "ms", "<= 200")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=2000 if quick() else 100_000)
    parser.add_argument("--due", type=int, default=100 if quick() else 1000)
    args = parser.parse_args()
    report(measure(args.open, args.due))


if __name__ == "__main__":
    main()
