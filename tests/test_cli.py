"""The `recrue` command itself: what it prints and what it refuses to start with."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_the_run_banner_hides_passwords() -> None:
    from services.cli import banner

    settings = Settings(
        _env_file=None,
        database_url="postgresql+psycopg://recrue:db-Pa55word@db.example:5432/recrue",
        broker_url="redis://:redis-Pa55word@cache.example:6379/0",
        secret_key="x" * 40,
    )
    printed = banner(settings)
    assert "db-Pa55word" not in printed
    assert "redis-Pa55word" not in printed
    assert "postgresql+psycopg://recrue:***@db.example:5432/recrue" in printed
    assert "redis://:***@cache.example:6379/0" in printed
    query = Settings(
        _env_file=None,
        broker_url="rediss://cache.example:6380/0?password=q-Pa55word&ssl_cert_reqs=required",
    )
    assert "q-Pa55word" not in banner(query)
    assert "ssl_cert_reqs=required" in banner(query)


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    """The environment of a new process: the test run's own database, broker and key removed."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "BROKER_URL", "SECRET_KEY", "VAR_DIR")
    }
    return env | {"VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(ROOT)} | values


# Never reached: the check comes before any connection.
POSTGRES = "postgresql+psycopg://recrue:pw@127.0.0.1:9/recrue"


@pytest.mark.parametrize(
    ("command", "secret"),
    [
        (["api"], None),
        (["api"], "short-secret"),
        (["worker", "notifier"], None),
        (["worker", "scheduler"], "change-me"),
        (["beat"], None),
        (["run"], "x" * 31),
    ],
)
def test_processes_refuse_a_default_or_short_secret(
    tmp_path: Path, command: list[str], secret: str | None
) -> None:
    extra = {"SECRET_KEY": secret} if secret is not None else {}
    started = subprocess.run(
        [sys.executable, "-m", "services.cli", *command],
        cwd=tmp_path,
        env=_env(tmp_path, DATABASE_URL=POSTGRES, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2, started.stdout + started.stderr
    assert "SECRET_KEY" in started.stderr
    assert not (tmp_path / "var" / "secret-key").exists()


@pytest.mark.parametrize("module", ["services.api.main", "services.scheduler.worker"])
def test_apps_started_without_the_cli_refuse_too(tmp_path: Path, module: str) -> None:
    # `uvicorn services.api.main:app`, `celery -A services.scheduler.worker …`
    started = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=tmp_path,
        env=_env(tmp_path, DATABASE_URL=POSTGRES),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "WeakSecretKey" in started.stderr


def test_the_embedded_run_generates_its_key_once(tmp_path: Path) -> None:
    script = "from shared.secret_key import signing_key; print(signing_key())"
    keys = [
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=tmp_path,
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        for _ in range(2)
    ]
    stored = tmp_path / "var" / "secret-key"
    assert keys[0] == keys[1] == stored.read_text().strip()
    assert len(keys[0]) >= 32 and keys[0] != "change-me"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert [p.name for p in stored.parent.iterdir()] == ["secret-key"], "no draft left behind"


def test_create_api_key_for_a_person_or_for_people() -> None:
    from sqlalchemy import select
    from typer.testing import CliRunner

    from services.cli import app
    from shared.db import session_scope
    from shared.models import ApiKey, Person

    with session_scope() as session:
        session.add(Person(name="Eve Jury", email="eve@example.org", roles=["examiner"]))
    runner = CliRunner()
    base = ["create-api-key", "--name"]
    own = runner.invoke(app, [*base, "eve", "--role", "examiner", "--person", "EVE@example.org"])
    assert own.exit_code == 0 and own.output.startswith("rk_"), own.output
    front = runner.invoke(app, [*base, "front", "--role", "hr", "--acts-for-people"])
    assert front.exit_code == 0, front.output
    nobody = runner.invoke(app, [*base, "x", "--role", "examiner", "--person", "no@example.org"])
    assert nobody.exit_code == 2 and "no person with the email" in nobody.output
    keyless = runner.invoke(app, [*base, "y", "--role", "examiner"])
    assert keyless.exit_code == 2 and "give person_id" in keyless.output
    with session_scope() as session:
        keys = session.execute(select(ApiKey.name, ApiKey.person_id, ApiKey.acts_for_people))
        eve = session.scalars(select(Person.id)).one()
        assert sorted(keys.all()) == [("eve", eve, False), ("front", None, True)]
