"""What every bench needs: a fresh database, an SMTP server in this process, the real stack."""

import os
import resource
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.database import fresh_database
from tests.mailbox import SmtpServer
from tests.stack import Stack, start_stack

SERVER = "bench (SMTP server)"  # this process's CPU, in `cpu_seconds`


@dataclass
class Run:
    stack: Stack
    smtp: SmtpServer
    database_url: str


@contextmanager
def running_stack(**env: str) -> Iterator[Run]:
    """The api, both workers and beat on a fresh database; everything is removed afterwards."""
    var_dir = Path(tempfile.mkdtemp(prefix="recrue-bench-"))
    os.environ["VAR_DIR"] = str(var_dir)
    url, drop = fresh_database(os.environ.get("DATABASE_URL", ""), var_dir)
    os.environ["DATABASE_URL"] = url
    smtp = SmtpServer()
    smtp.start()
    stack = start_stack(var_dir, smtp.port, **env)
    try:
        yield Run(stack, smtp, url)
    finally:
        stack.stop()
        smtp.stop()
        from shared.db import get_engine

        get_engine().dispose()
        drop()


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU time used so far by each process of the stack (with its worker children), by this
    process, whose SMTP server thread is most of it, and by the rest of the machine: the
    database and the broker, mostly (Linux: read from /proc)."""
    used = {
        name: sum(_cpu(pid) for pid in [process.pid, *_children(process.pid)])
        for name, process in stack.processes.items()
    }
    own = resource.getrusage(resource.RUSAGE_SELF)
    used[SERVER] = own.ru_utime + own.ru_stime
    used["others (database, broker)"] = _machine_busy() - sum(used.values())
    return used


def _machine_busy() -> float:
    """Seconds all the cores have spent working since boot (user, system, interrupts)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(f) for f in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(child) for child in found.split()]


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PeakMemory:
    """Samples the resident memory of some of the stack's processes (each parent and each of its
    worker children on its own) in a thread, while a `with` block runs; `peak_mb` is the
    largest one seen. The children are listed again once a second, not at every sample: each
    listing runs pgrep (about 3 ms of CPU), which the stack would pay for and its baseline not."""

    def __init__(self, stack: Stack, *names: str, every: float = 0.1, relist: float = 1.0) -> None:
        self.pids = [stack.processes[name].pid for name in names]
        self.every = every
        self.relist = relist
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        listed_at = -self.relist
        while True:
            if time.monotonic() - listed_at >= self.relist:
                pids = [*self.pids, *(c for p in self.pids for c in _children(p))]
                listed_at = time.monotonic()
            for pid in pids:
                self.peak_mb = max(self.peak_mb, _rss_mb(pid))
            if self._stop.wait(self.every):
                return


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
