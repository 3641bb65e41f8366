"""`recrue`: run the stack, migrate, create API keys, start a worker or beat."""

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import typer

from shared.settings import Settings, get_settings

app = typer.Typer(help="Recrue: recruitment back end.", no_args_is_help=True)


class Worker(StrEnum):
    notifier = "notifier"
    scheduler = "scheduler"


WORKER_QUEUES = {Worker.notifier: "notifications", Worker.scheduler: "scheduling"}


def _require_secret_key() -> None:
    """Refuse to start a process that signs candidate links without a fit SECRET_KEY."""
    from shared.secret_key import WeakSecretKey, require_secret_key

    try:
        require_secret_key()
    except WeakSecretKey as exc:
        typer.echo(f"recrue: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def migrate() -> None:
    """Migrate the database (DATABASE_URL) to the newest schema."""
    from services.api.migrations import upgrade_to_head

    upgrade_to_head()
    typer.echo("database migrated to head")


@app.command("create-api-key")
def create_api_key(
    name: Annotated[str, typer.Option(help="who or what uses the key")],
    role: Annotated[str, typer.Option(help="admin, hr, examiner or viewer")],
    person: Annotated[
        str | None, typer.Option(help="the email of the person whose own key it is")
    ] = None,
    acts_for_people: Annotated[
        bool, typer.Option(help="the key may send On-Behalf-Of: <a person's email>")
    ] = False,
) -> None:
    """Create an API key and print it (only once: just its hash is stored)."""
    from services.api.api_keys.service import create_api_key as create
    from services.api.auth import Role
    from services.api.errors import DomainError
    from services.api.people.service import by_email
    from shared.db import session_scope

    if role not in set(Role):
        roles = ", ".join(Role)
        raise typer.BadParameter(f"role must be one of {roles}", param_hint="--role")
    with session_scope() as session:
        owner = None if person is None else by_email(session, person)
        if person is not None and owner is None:
            raise typer.BadParameter(f"no person with the email {person}", param_hint="--person")
        try:
            _, key = create(
                session=session,
                name=name,
                role=Role(role),
                person_id=None if owner is None else owner.id,
                acts_for_people=acts_for_people,
            )
        except DomainError as exc:
            raise typer.BadParameter(exc.detail) from None
    typer.echo(key)


@app.command()
def api(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="port (default: API_PORT)")] = None,
    workers: Annotated[
        int | None, typer.Option(help="uvicorn worker processes (default: API_WORKERS)")
    ] = None,
) -> None:
    """Serve the HTTP API with uvicorn."""
    import uvicorn

    _require_secret_key()
    from services.api.access_log import uvicorn_log_config

    settings = get_settings()
    uvicorn.run(
        "services.api.main:app",
        host=host,
        port=port or settings.api_port,
        workers=workers or settings.api_workers,
        proxy_headers=True,
        log_config=uvicorn_log_config(),  # candidate link tokens masked in the access log
    )


@app.command()
def worker(
    kind: Annotated[Worker, typer.Argument(help="which worker")],
    concurrency: Annotated[
        int | None, typer.Option(help="processes (default: 4 for the notifier, 2 otherwise)")
    ] = None,
    loglevel: Annotated[str, typer.Option()] = "INFO",
) -> None:
    """Start a Celery worker for the notifier or the scheduler."""
    _require_secret_key()
    # The notifier mostly waits on SMTP servers: more processes than cores keep them busy.
    concurrency = concurrency or (4 if kind is Worker.notifier else 2)
    if kind is Worker.notifier:
        from services.notifier.worker import app as celery_app
    else:
        from services.scheduler.worker import app as celery_app
    celery_app.worker_main(
        [
            "worker",
            f"--queues={WORKER_QUEUES[kind]}",
            f"--hostname={kind.value}@%h",
            f"--concurrency={concurrency}",
            f"--loglevel={loglevel}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


@app.command()
def beat(
    loglevel: Annotated[str, typer.Option()] = "INFO",
    schedule: Annotated[
        Path | None, typer.Option(help="beat's state file (default: VAR_DIR/beat-schedule)")
    ] = None,
) -> None:
    """Start Celery beat: the outbox relay and the sweeps of deadlines and reminders."""
    _require_secret_key()
    from services.scheduler.worker import app as celery_app

    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    schedule = schedule or settings.var_dir / "beat-schedule"
    celery_app.start(["beat", f"--schedule={schedule}", f"--loglevel={loglevel}"])


@app.command("ingest-mail")
def ingest_mail() -> None:
    """Read one RFC 5322 email on standard input and apply its calendar answer (iTIP REPLY or
    COUNTER), for an MTA's pipe transport or a procmail rule. Exit 0 when it was handled or
    ignored (not an answer to one of our invitations); 65 when the input is no email; 75
    (EX_TEMPFAIL: the MTA tries again later) when the database cannot be reached."""
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    from shared import replies
    from shared.celery_app import make_celery
    from shared.outbox import celery_publisher

    _require_secret_key()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    raw = sys.stdin.buffer.read()
    try:
        outcome = replies.ingest(raw, publish=celery_publisher(make_celery("recrue-ingest")))
    except replies.Unreadable as exc:
        typer.echo(f"recrue: not an email: {exc}", err=True)
        raise typer.Exit(65) from None
    except SQLAlchemyError as exc:
        typer.echo(f"recrue: the database cannot be reached: {type(exc).__name__}", err=True)
        raise typer.Exit(75) from None
    typer.echo(f"{'handled' if outcome.handled else 'ignored'}: {outcome.value}")


def _pipe(name: str, stream: object) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        sys.stdout.write(f"{name:<10}| {line}")
        sys.stdout.flush()


def _wait_for_api(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


@app.command()
def run(
    concurrency: Annotated[
        int | None, typer.Option(help="processes per worker (default: each worker's own)")
    ] = None,
) -> None:
    """Migrate, then run the api, both workers and beat as separate processes (Ctrl-C stops)."""
    settings = get_settings()
    _require_secret_key()  # and, on SQLite, generate it before the processes start together
    migrate()
    sized = [f"--concurrency={concurrency}"] if concurrency else []
    commands = {
        "api": ["api"],
        "notifier": ["worker", "notifier", *sized],
        "scheduler": ["worker", "scheduler", *sized],
        "beat": ["beat"],
    }
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    processes: dict[str, subprocess.Popen[str]] = {}
    for name, args in commands.items():
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        processes[name] = process
        threading.Thread(target=_pipe, args=(name, process.stdout), daemon=True).start()

    stopping = threading.Event()
    # Explicit handlers: a shell that starts us in the background would have us ignore SIGINT.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        if _wait_for_api(settings.api_port, timeout=60):
            typer.echo(banner(settings))
        while not stopping.is_set():
            for name, process in processes.items():
                if process.poll() is not None:
                    typer.echo(
                        f"{name} stopped (exit {process.returncode}): stopping all", err=True
                    )
                    stopping.set()
            stopping.wait(0.5)
    finally:
        _stop_all(processes)


def hide_password(url: str) -> str:
    """The URL with any password (in the user part or a `password` query parameter) masked."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        credentials, host = netloc.rsplit("@", 1)
        if ":" in credentials:
            netloc = f"{credentials.split(':', 1)[0]}:***@{host}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name.lower() == "password" for name, _ in query):
        masked = [(n, "***" if n.lower() == "password" else v) for n, v in query]
        parts = parts._replace(query=urlencode(masked, safe="*"))
    return urlunsplit(parts._replace(netloc=netloc))


def banner(settings: Settings) -> str:
    """What `recrue run` prints once the api answers (no password of any URL)."""
    base = f"http://127.0.0.1:{settings.api_port}"
    mail = (
        f"SMTP {settings.smtp_host}:{settings.smtp_port}"
        if settings.smtp_host
        else str(settings.resolved_mail_dir)
    )
    return (
        "\nRecrue is running.\n"
        f"  API docs:  {base}/docs\n"
        f"  health:    {base}/readyz\n"
        f"  mail:      {mail}\n"
        f"  database:  {hide_password(settings.resolved_database_url)}\n"
        f"  broker:    {hide_password(settings.resolved_broker_url)}\n"
        "  API key:   .venv/bin/recrue create-api-key --name me --role admin\n"
        "Ctrl-C stops everything.\n"
    )


def _stop_all(processes: dict[str, subprocess.Popen[str]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    app()
