"""The real processes of the stack (uvicorn, both Celery workers, beat), for e2e tests and bench."""

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.mailbox import free_port


@dataclass
class Stack:
    base_url: str
    env: dict[str, str]
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        log = (self.logs / f"{name}.log").open("ab")  # a restart adds to the same log
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "services.cli", *args],
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    def log_tails(self) -> str:
        tails = []
        for path in sorted(self.logs.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()[-25:]
            tails.append(f"--- {path.name}\n" + "\n".join(lines))
        return "\n".join(tails)

    def create_api_key(self, role: str = "hr") -> dict[str, str]:
        """A key made the way an operator makes one: `recrue create-api-key`."""
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "services.cli",
                "create-api-key",
                "--name",
                "e2e",
                "--role",
                role,
            ],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return {"Authorization": f"Bearer {result.stdout.strip()}"}


def wait_until_healthy(url: str, stack: Stack, timeout: float = 60, path: str = "/healthz") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}{path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never became healthy\n{stack.log_tails()}")


def wait_for_workers(stack: Stack, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = {name: (stack.logs / f"{name}.log") for name in ("notifier", "scheduler")}
        if all(p.exists() and " ready." in p.read_text(errors="replace") for p in logs.values()):
            return
        time.sleep(0.2)
    raise AssertionError(f"workers never became ready\n{stack.log_tails()}")


def start_stack(logs: Path, smtp_port: int, **env: str) -> Stack:
    """Start the api, both workers and beat on the current DATABASE_URL / BROKER_URL."""
    port = free_port()
    environment = {
        **os.environ,
        "API_PORT": str(port),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_TLS": "none",
        "OUTBOX_RELAY_SECONDS": "1",
        "OUTBOX_RELAY_GRACE_SECONDS": "1",
        "DEADLINE_SWEEP_SECONDS": "1",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    stack = Stack(base_url=f"http://127.0.0.1:{port}", env=environment, logs=logs)
    stack.start("api", "api", "--port", str(port))
    stack.start("notifier", "worker", "notifier")
    stack.start("scheduler", "worker", "scheduler")
    stack.start("beat", "beat")
    try:
        wait_until_healthy(stack.base_url, stack)
        wait_for_workers(stack)
    except BaseException:
        stack.stop()
        raise
    return stack
