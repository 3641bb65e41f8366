"""Prefork workers: the parent makes the driver and the ORM ready without opening a connection,
and a forked child queries the database on connections of its own."""

import os
import subprocess
import sys
from pathlib import Path

from celery.signals import worker_init, worker_process_init

ROOT = Path(__file__).resolve().parents[2]

# Run in a new interpreter: this test process has long since connected and configured all.
FORK = """
import os, sys
from sqlalchemy import text
from sqlalchemy.orm import Mapper
from shared.db import forget_parent_connections, get_engine, prepare_before_fork, session_scope
from shared.models import Message

prepare_before_fork()
pool = get_engine().pool
assert pool.checkedin() == 0 and pool.checkedout() == 0, "the parent opened a connection"
assert Message.__mapper__.configured, "mappers not configured before the fork"

child = os.fork()
if child == 0:
    forget_parent_connections()
    with session_scope() as session:
        ok = session.execute(text("SELECT 1")).scalar() == 1
    os._exit(0 if ok else 1)
_, status = os.waitpid(child, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_the_parent_prepares_and_the_child_connects_on_its_own() -> None:
    done = subprocess.run(
        [sys.executable, "-c", FORK], cwd=ROOT, env=os.environ, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_both_workers_connect_the_hooks() -> None:
    import services.notifier.worker  # noqa: F401
    import services.scheduler.worker  # noqa: F401
    from shared.celery_app import _before_fork, _in_child

    assert _before_fork in worker_init._live_receivers(None)
    assert _in_child in worker_process_init._live_receivers(None)
