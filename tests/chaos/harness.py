"""The chaos suite's harness: the real stack behind proxies, faults, and the count of what arrived.

A scenario starts the api, both workers and beat (tests/stack.py) on the run's database and on
a broker of its own, reaching them through TCP proxies it can take down or freeze:

- on PostgreSQL + Redis: a private `redis-server` (a free port, no persistence), never the
  machine's Redis; every stack process reaches PostgreSQL through one proxy, and the api reaches
  Redis through a proxy of its own, so that it alone can lose the broker;
- on the embedded default (SQLite + filesystem broker): a private VAR_DIR for the broker folder.

It then makes decisions through the HTTP API, injects a fault, heals it, and waits (bounded)
until every recipient's message has reached a final state. `Tally` counts, per recipient, the
emails the SMTP server received and the message's final state, checks the guarantees and keeps
the figures written to var/chaos/.
"""

import contextlib
import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

import httpx
from sqlalchemy import make_url, select, update

from tests.builders import seed_dossiers
from tests.mailbox import SmtpServer, free_port
from tests.proxy import TcpProxy
from tests.stack import Stack, wait_for_workers, wait_until_healthy

QUICK = os.environ.get("CHAOS_QUICK", "1") != "0"
FINAL = ("sent", "failed", "unknown")
WAITING = ("queued", "sending", "retrying")

# Fast sweeps, so that recovery takes seconds (DELIVERY_* come with the delivery sweep).
SWEEP_SECONDS = 1
REDELIVER_SECONDS = 5
SMTP_TIMEOUT = 2
SMTP_SEND_DEADLINE = 4
# A claimed group of 10 goes out in one turn: the lease of a killed send (turns x deadline +
# timeout + 30 s) is then 36 s, the time a scenario waits for `unknown`.
SMTP_CONNECTIONS = 10


def sized(quick: int, full: int) -> int:
    """A size for the quick mode (`make test`) or the full one (`make chaos`)."""
    return quick if QUICK else full


NOTIFIER_PROCESSES = sized(2, 4)  # 4 is the default of `recrue worker notifier`


def postgres() -> bool:
    return os.environ["DATABASE_URL"].startswith("postgresql")


def redis_broker() -> bool:
    return os.environ.get("BROKER_URL", "").startswith("redis")


def backend_name() -> str:
    return ("postgresql" if postgres() else "sqlite") + (
        "+redis" if redis_broker() else "+filesystem"
    )


class PrivateRedis:
    """A redis-server of the suite's own on a free loopback port, without persistence: the
    suite restarts and freezes it; the machine's Redis (6379) is never touched."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
                "--logfile",
                str(self.folder / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while not self.ping():
            assert time.monotonic() < deadline, "the private redis-server did not start"
            time.sleep(0.05)

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def flush(self) -> None:
        import redis

        redis.Redis(port=self.port, socket_timeout=5).flushall()

    def restart(self) -> None:
        """Stop it and start it again: with no persistence, every waiting task is gone."""
        self.stop()
        self.start()

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGCONT)  # a frozen server cannot act on SIGTERM
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (a Celery worker's pool)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@dataclass
class ChaosStack:
    """The real processes, with the proxies the faults act on."""

    stack: Stack
    database: TcpProxy | None  # every process -> PostgreSQL
    broker: TcpProxy | None  # workers and beat -> Redis
    api_broker: TcpProxy | None  # the api -> Redis
    redis: PrivateRedis | None
    worker_args: dict[str, list[str]]

    @property
    def base_url(self) -> str:
        return self.stack.base_url

    def hr(self, timeout: float = 30) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.base_url}/api/v1",
            headers=self.stack.create_api_key(),
            timeout=timeout,
        )

    def pid(self, name: str) -> int:
        return self.stack.processes[name].pid

    def start(self, name: str) -> None:
        """(Re)start one process of the stack and wait until it is ready."""
        env = {"BROKER_URL": self._api_broker_url} if name == "api" and self.api_broker else None
        log = self.stack.logs / f"{name}.log"
        seen = log.read_text(errors="replace").count(" ready.") if log.exists() else 0
        self.stack.start(name, *self.worker_args[name], env=env)
        if name == "api":
            wait_until_healthy(self.base_url, self.stack)
        elif name in ("notifier", "scheduler"):
            deadline = time.monotonic() + 60
            while log.read_text(errors="replace").count(" ready.") <= seen:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{name} never became ready\n{self.stack.log_tails()}")
                time.sleep(0.1)

    def alive(self, name: str) -> bool:
        process = self.stack.processes.get(name)
        return process is not None and process.poll() is None

    def heal(self) -> None:
        """Between scenarios: every fault lifted, the four processes running, no second beat."""
        for proxy in (self.database, self.broker, self.api_broker):
            if proxy is not None:
                proxy.up()
        if self.redis is not None and not self.redis.ping():
            self.redis.restart()
        if "beat-2" in self.stack.processes:
            self.kill("beat-2")
            del self.stack.processes["beat-2"]
        for name in ("api", "notifier", "scheduler", "beat"):
            if not self.alive(name):
                self.start(name)

    def kill(self, name: str, *, with_children: bool = True) -> None:
        """SIGKILL a process (and its pool), as the OOM killer or a power cut would."""
        process = self.stack.processes[name]
        pool = children(process.pid) if with_children else []
        process.send_signal(signal.SIGKILL)
        for child in pool:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        process.wait(timeout=10)

    def kill_one_child(self, name: str) -> int:
        """SIGKILL one process of a worker's pool; the worker replaces it."""
        pool = children(self.pid(name))
        assert pool, f"{name} has no pool processes"
        os.kill(pool[0], signal.SIGKILL)
        return pool[0]

    def start_second_beat(self) -> None:
        """Another beat, with its own schedule file: two beats at once (a deployment error)."""
        self.worker_args["beat-2"] = ["beat", "--schedule", str(self.stack.logs / "beat-2")]
        self.start("beat-2")

    def stop_gracefully(self, name: str) -> None:
        process = self.stack.processes.pop(name)
        process.terminate()
        process.wait(timeout=30)

    @property
    def _api_broker_url(self) -> str:
        assert self.api_broker is not None
        return f"redis://127.0.0.1:{self.api_broker.port}/0"

    def stop(self) -> None:
        for name in list(self.stack.processes):  # the suite is done with them: no warm shutdown
            if self.alive(name):
                self.kill(name)
        for proxy in (self.database, self.broker, self.api_broker):
            if proxy is not None:
                proxy.down()


def start_chaos_stack(
    logs: Path,
    smtp: SmtpServer,
    redis: PrivateRedis | None,
    notifier_processes: int | None = None,
    **extra: str,
) -> ChaosStack:
    """The api, both workers and beat, each reaching the database and broker through proxies."""
    env: dict[str, str] = {
        "API_PORT": str(free_port()),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_TLS": "none",
        "SMTP_TIMEOUT": str(SMTP_TIMEOUT),
        "SMTP_SEND_DEADLINE": str(SMTP_SEND_DEADLINE),
        "SMTP_CONNECTIONS": str(SMTP_CONNECTIONS),
        "OUTBOX_RELAY_SECONDS": "1",
        "OUTBOX_RELAY_GRACE_SECONDS": "1",
        "DELIVERY_SWEEP_SECONDS": str(SWEEP_SECONDS),
        "DELIVERY_REDELIVER_SECONDS": str(REDELIVER_SECONDS),
        "DEADLINE_SWEEP_SECONDS": "30",
        "RETENTION_SWEEP_SECONDS": str(SWEEP_SECONDS),  # scenario 7's CV bank renewals
        "VAR_DIR": str(logs / "var"),  # the embedded broker's own folder
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    database = broker = api_broker = None
    if postgres():
        url = make_url(os.environ["DATABASE_URL"])
        database = TcpProxy((url.host or "127.0.0.1", url.port or 5432), free_port())
        database.up()
        env["DATABASE_URL"] = url.set(host="127.0.0.1", port=database.port).render_as_string(
            hide_password=False
        )
    if redis is not None:
        broker = TcpProxy(("127.0.0.1", redis.port), free_port())
        api_broker = TcpProxy(("127.0.0.1", redis.port), free_port())
        broker.up()
        api_broker.up()
        env["BROKER_URL"] = f"redis://127.0.0.1:{broker.port}/0"
    port = env["API_PORT"]
    env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    stack = Stack(base_url=f"http://127.0.0.1:{port}", env={**os.environ, **env}, logs=logs)
    chaos = ChaosStack(
        stack=stack,
        database=database,
        broker=broker,
        api_broker=api_broker,
        redis=redis,
        worker_args={
            "api": ["api", "--port", port],
            "notifier": [
                "worker",
                "notifier",
                "--concurrency",
                str(notifier_processes or NOTIFIER_PROCESSES),
            ],
            "scheduler": ["worker", "scheduler", "--concurrency", "1"],
            "beat": ["beat"],
        },
    )
    try:
        for name in ("api", "notifier", "scheduler", "beat"):
            env_api = (
                {"BROKER_URL": chaos._api_broker_url} if name == "api" and api_broker else None
            )
            stack.start(name, *chaos.worker_args[name], env=env_api)
        wait_until_healthy(stack.base_url, stack)
        wait_for_workers(stack)
    except BaseException:
        chaos.stop()
        raise
    return chaos


# --- what the scenarios decide -------------------------------------------------------------


def run_id() -> str:
    """A scenario's own mark in its addresses and references: scenarios share one stack."""
    return uuid.uuid4().hex[:8]


def address(run: str, n: int, tag: str = "") -> str:
    return f"c{n}{tag}-{run}@chaos.example"


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201, 202), f"{response.status_code} {response.text}"
    return dict(response.json())


def new_job(http: httpx.Client, run: str, suffix: str = "") -> str:
    return ok(
        http.post("/jobs", json={"title": "Chaos", "reference": f"CH-{run}{suffix}", "year": 2027})
    )["id"]


def invite_all(http: httpx.Client, job_id: str) -> str:
    """A written trial of the job, every open dossier invited: one decision; the trial's id."""
    trial = ok(
        http.post(
            f"/jobs/{job_id}/trials",
            json={
                "kind": "written",
                "title": "Écrit",
                "starts_at": "2027-06-15T10:00:00+02:00",
                "duration_minutes": 90,
                "location": "Hall",
                "info": "Stylo",
            },
        )
    )
    ok(http.post(f"/trials/{trial['id']}/invitations", json={"all_eligible": True}))
    return str(trial["id"])


def new_applications(http: httpx.Client, job_id: str, addresses: list[str]) -> list[str]:
    """One specific application per address (not validated yet: no email); their ids."""
    ids = []
    for n, email in enumerate(addresses):
        body = {
            "kind": "specific",
            "job_id": job_id,
            "candidate": {"first_name": "Chaos", "last_name": str(n), "email": email},
        }
        ids.append(ok(http.post("/applications", json=body))["id"])
    return ids


def cv_bank_profiles_nearing_their_end(http: httpx.Client, addresses: list[str]) -> None:
    """One CV bank profile per address whose candidate last acted long enough ago that the
    retention sweep asks them, now, whether to keep it (not yet anonymised)."""
    from shared.db import session_scope
    from shared.models import Application, utcnow
    from shared.retention import add_months
    from shared.settings import get_settings

    settings = get_settings()
    acted = add_months(utcnow(), -settings.cv_bank_months) + timedelta(
        days=settings.cv_bank_renewal_days / 2
    )
    ids = []
    for n, email in enumerate(addresses):
        body = {
            "kind": "spontaneous",
            "candidate": {"first_name": "Chaos", "last_name": f"CV {n}", "email": email},
        }
        ids.append(uuid.UUID(ok(http.post("/applications", json=body))["id"]))
    with session_scope() as session:
        session.execute(
            update(Application).where(Application.id.in_(ids)).values(candidate_acted_at=acted)
        )


def validated(application_ids: list[str]) -> set[str]:
    """The applications whose validation committed."""
    from shared.db import session_scope
    from shared.models import Application

    ids = [uuid.UUID(a) for a in application_ids]
    with session_scope() as session:
        rows = session.execute(
            select(Application.id, Application.status).where(Application.id.in_(ids))
        ).all()
    return {str(i) for i, status in rows if status == "validated"}


class Decisions:
    """Validations sent one after the other from a thread, each with an Idempotency-Key and
    repeated (same key) until it gets an answer, as a front-end would; the latency of each try
    is kept, so that a scenario can show the api never hangs."""

    def __init__(self, base_url: str, headers: dict[str, str], application_ids: list[str]):
        self.base_url = base_url
        self.headers = headers
        self.ids = application_ids
        self.answered: dict[str, int] = {}
        self.tries: list[tuple[float, float, str]] = []  # (start, seconds, outcome)
        self.pause = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self, pause: float = 0.0) -> "Decisions":
        self.pause = pause
        self._thread.start()
        return self

    def _run(self) -> None:
        with httpx.Client(base_url=f"{self.base_url}/api/v1", headers=self.headers) as http:
            for application_id in self.ids:
                key = f"chaos-{application_id}"
                while not self._stop.is_set():
                    started = time.monotonic()
                    try:
                        response = http.post(
                            f"/applications/{application_id}/validate",
                            headers={"Idempotency-Key": key},
                            timeout=60,
                        )
                        outcome = str(response.status_code)
                    except httpx.HTTPError as exc:
                        response, outcome = None, type(exc).__name__
                    self.tries.append((started, time.monotonic() - started, outcome))
                    # 409 idempotent-answer-lost: committed, the answer was not recorded.
                    if response is not None and response.status_code in (200, 201, 409):
                        self.answered[application_id] = response.status_code
                        break
                    time.sleep(0.3)
                time.sleep(self.pause)

    def wait_answered(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.answered) < count:
            assert time.monotonic() < deadline, f"decisions stalled: {self.outcomes()}"
            time.sleep(0.02)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
        self._stop.set()
        assert not self._thread.is_alive(), "the decisions did not finish in time"

    def longest_try(self, since: float = 0.0, until: float = float("inf")) -> float:
        """The longest try that overlapped [since, until] (one held across a whole outage
        started before it)."""
        return max(
            (seconds for t, seconds, _ in self.tries if t <= until and t + seconds >= since),
            default=0.0,
        )

    def outcomes(self) -> dict[str, int]:
        return dict(Counter(outcome for _, _, outcome in self.tries))


# --- what arrived --------------------------------------------------------------------------


@dataclass
class Figures:
    """One scenario's measured figures (written to var/chaos/)."""

    scenario: str
    backend: str
    expected: int = 0
    received_once: int = 0
    duplicates: int = 0
    lost: int = 0
    unknown: int = 0
    failed: int = 0
    sent: int = 0
    unknown_received: int = 0  # unknown at Recrue, yet the server had it: it left once
    time_to_recover: float | None = None
    seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Tally:
    """Per recipient: emails received by the SMTP server, and the final state of its message."""

    def __init__(self, scenario: str, smtp: SmtpServer, recipients: list[str]) -> None:
        self.figures = Figures(scenario=scenario, backend=backend_name())
        self.smtp = smtp
        self.recipients = recipients
        self.started = time.monotonic()
        self.healed_at: float | None = None
        self.states: dict[str, list[tuple[str, str, str | None]]] = {}

    def healed(self) -> None:
        """The fault is over: recovery is timed from now."""
        self.healed_at = time.monotonic()

    def received(self) -> Counter[str]:
        wanted = set(self.recipients)
        return Counter(
            r for m in list(self.smtp.mailbox.messages) for r in m.rcpt_tos if r in wanted
        )

    def _read_states(self) -> None:
        from shared.db import session_scope
        from shared.models import Message

        states: dict[str, list[tuple[str, str, str | None]]] = {r: [] for r in self.recipients}
        with session_scope() as session:
            for start in range(0, len(self.recipients), 500):
                rows = session.execute(
                    select(
                        Message.to_address, Message.id, Message.status, Message.last_response
                    ).where(Message.to_address.in_(self.recipients[start : start + 500]))
                ).all()
                for to, message_id, status, response in rows:
                    states[to].append((str(message_id), status, response))
        self.states = states

    def _settled(self) -> bool:
        self._read_states()
        received = self.received()
        for recipient, rows in self.states.items():
            if len(rows) != 1 or rows[0][1] not in FINAL:
                return False
            if rows[0][1] == "sent" and received[recipient] < 1:
                return False
        return True

    def wait(self, timeout: float, settle: float | None = None) -> None:
        """Until every recipient's message is final (bounded), then `settle` more seconds in
        which a late duplicate would show."""
        deadline = time.monotonic() + timeout
        while not self._settled():
            if time.monotonic() > deadline:
                break
            time.sleep(0.25)
        else:
            self.figures.time_to_recover = round(
                time.monotonic() - (self.healed_at or self.started), 1
            )
        time.sleep(settle if settle is not None else sized(2, REDELIVER_SECONDS + 3))
        self._read_states()

    def check(self, http: httpx.Client, stack: ChaosStack | None = None) -> Figures:
        """Count, record and assert the guarantees."""
        received = self.received()
        f = self.figures
        f.expected = len(self.recipients)
        f.seconds = round(time.monotonic() - self.started, 1)
        stuck, missing, sent_not_received, flagged = [], [], [], {}
        for recipient in self.recipients:
            count = received[recipient]
            rows = self.states.get(recipient, [])
            status = rows[0][1] if len(rows) == 1 else None
            f.received_once += count == 1
            f.duplicates += max(0, count - 1)
            if not rows:
                missing.append(recipient)
            elif len(rows) > 1:
                stuck.append((recipient, [r[1] for r in rows]))
            elif status in WAITING:
                stuck.append((recipient, status))
            f.sent += status == "sent"
            f.failed += status == "failed"
            f.unknown += status == "unknown"
            f.unknown_received += status == "unknown" and count > 0
            if status in ("failed", "unknown"):
                flagged[rows[0][0]] = recipient
            if status == "sent" and count != 1:
                sent_not_received.append(recipient)
            if count == 0 and status not in ("failed", "unknown"):
                f.lost += 1
        notices = listed_in_notices(http)
        unlisted = sorted(set(flagged) - notices)
        f.notes["not_in_notices"] = len(unlisted)
        details = (
            f"{f}\nstuck: {stuck[:10]}\nmissing: {missing[:10]}\n"
            f"sent but not received once: {sent_not_received[:10]}\n"
            f"failed/unknown not in /notices: {unlisted[:10]}"
        )
        if stack is not None and (stuck or missing or f.duplicates or unlisted):
            details += "\n" + stack.stack.log_tails()
        RESULTS.append(f)
        assert f.duplicates == 0, f"duplicates\n{details}"
        assert not stuck, f"messages not final past their sweep\n{details}"
        assert not missing and f.lost == 0, f"lost\n{details}"
        assert not sent_not_received, f"'sent' but not received exactly once\n{details}"
        assert not unlisted, f"failed or unknown but not listed in /notices\n{details}"
        return f


RESULTS: list[Figures] = []


def listed_in_notices(http: httpx.Client) -> set[str]:
    """The message ids of the email notices (`email_failed:*`, `email_unknown:*`)."""
    ids: set[str] = set()
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        page = ok(http.get("/notices", params=params))
        for item in page["items"]:
            if item["action"].startswith(("email_failed:", "email_unknown:")):
                ids.add(str((item.get("after") or {}).get("message_id")))
        cursor = page["next_cursor"]
        if not cursor:
            return ids


@contextlib.contextmanager
def timed(figures: Figures, name: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    figures.notes[name] = round(time.monotonic() - started, 1)


class UnderWay(NamedTuple):
    """Invitations being sent and HR decisions coming in: the moment a fault is injected."""

    http: httpx.Client
    applications: list[str]
    tally: Tally
    decisions: Decisions


def invitations_and_decisions(chaos_stack: ChaosStack, smtp: SmtpServer, title: str) -> UnderWay:
    """A job whose invitations are going out (a quarter arrived) while decisions are made."""
    run = run_id()
    invited = [address(run, n, "inv") for n in range(sized(20, 200))]
    decided = [address(run, n, "val") for n in range(sized(10, 40))]
    http = chaos_stack.hr()
    job = new_job(http, run)
    seed_dossiers(job, invited)
    applications = new_applications(http, job, decided)
    tally = Tally(title, smtp, invited + decided)
    invite_all(http, job)
    smtp.mailbox.wait_for(len(invited) // 4, timeout=60)
    decisions = Decisions(chaos_stack.base_url, dict(http.headers), applications).start(0.2)
    decisions.wait_answered(1)  # the fault comes while decisions are coming in
    return UnderWay(http, applications, tally, decisions)


def probe_readyz(base_url: str, until: float) -> list[tuple[float, int | str]]:
    """/readyz once a second until `until`: how long each answer took, and its status."""
    probes: list[tuple[float, int | str]] = []
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            status: int | str = httpx.get(f"{base_url}/readyz", timeout=60).status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        probes.append((round(time.monotonic() - started, 1), status))
        time.sleep(1)
    return probes
