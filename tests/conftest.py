"""Test setup: a fresh database and broker per run, real services when the environment names them.

DATABASE_URL pointing at PostgreSQL: a new database is created on that server for the run and
dropped after it. BROKER_URL pointing at Redis: that broker is used and its queues purged.
Otherwise SQLite and the embedded (filesystem) broker under a temporary folder.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, make_url, update

from tests import dovecot, libical, postfix
from tests.builders import Builders
from tests.database import fresh_database
from tests.mailbox import Mailbox, SmtpServer

_run: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="recrue-test-"))
    _run["var_dir"] = var_dir
    os.environ["VAR_DIR"] = str(var_dir)
    os.environ["MAIL_DIR"] = str(var_dir / "mail")
    os.environ["SECRET_KEY"] = "test-secret-long-enough-to-sign-links-0123456789"
    os.environ["MAIL_FROM"] = "Service RH <rh@commune.example>"
    os.environ.pop("SMTP_HOST", None)
    url, _run["drop_database"] = fresh_database(os.environ.get("DATABASE_URL", ""), var_dir)
    os.environ["DATABASE_URL"] = url
    if _redis_broker():
        from shared.celery_app import make_celery

        make_celery("recrue-tests").control.purge()


def pytest_unconfigure(config: pytest.Config) -> None:
    from shared.db import get_engine

    get_engine().dispose()
    _run.get("drop_database", lambda: None)()
    shutil.rmtree(_run.get("var_dir", ""), ignore_errors=True)


def _redis_broker() -> bool:
    return os.environ.get("BROKER_URL", "").startswith("redis")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect what this machine cannot run.

    Tests of a Redis outage need Redis: they are not collected on the embedded broker; those of
    a PostgreSQL outage need PostgreSQL (a network database). Tests through a real Postfix or
    Dovecot need it installed and root; those through libical need it and a C compiler
    (`.ci/run` installs all three).
    """
    unrunnable = []
    if not _redis_broker():
        unrunnable.append("redis_broker")
    if not os.environ["DATABASE_URL"].startswith("postgresql"):
        unrunnable.append("postgresql")
    if not postfix.runnable():
        unrunnable.append("postfix")
    if not dovecot.runnable():
        unrunnable.append("dovecot")
    if not libical.available():
        unrunnable.append("libical")
    skipped = [item for item in items if any(item.get_closest_marker(m) for m in unrunnable)]
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = [item for item in items if item not in skipped]


def pytest_report_header(config: pytest.Config) -> list[str]:
    database = make_url(os.environ["DATABASE_URL"]).get_backend_name()
    broker = os.environ.get("BROKER_URL") or "filesystem (embedded)"
    lines = [f"recrue: database={database} broker={broker.split('@')[-1]}"]
    missing = {
        "postfix": postfix.runnable() or "Postfix or root is missing",
        "dovecot": dovecot.runnable() or "dovecot-imapd or root is missing",
        "libical": libical.available() or libical.WHY_MISSING,
    }
    lines += [
        f"recrue: deselected {name}: {why}" for name, why in missing.items() if why is not True
    ]
    return lines


@pytest.fixture(autouse=True)
def clean_database() -> Iterator[None]:
    """Every test starts from empty tables (the schema stays: it was migrated once)."""
    yield
    from shared.db import get_engine
    from shared.models import Application, Base

    with get_engine().begin() as connection:
        # applications and stored_files point at each other: break the cycle first.
        connection.execute(update(Application).values(cv_file_id=None))
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


@pytest.fixture
def client() -> Iterator[Any]:
    """The API in-process, publishing to the run's real broker."""
    from fastapi.testclient import TestClient

    from services.api.main import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """The SQL statements sent by this process (and so by the in-process API) during the test:
    clear it, make a request, count."""
    from sqlalchemy import event

    from shared.db import get_engine

    sent: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(get_engine(), "before_cursor_execute", record)
    yield sent
    event.remove(get_engine(), "before_cursor_execute", record)


@pytest.fixture
def api_key() -> Any:
    """Make an API key of a role; returns the Authorization headers for it. An examiner's key
    is a person's own: the person is made too, named after the key (as migration 0009 did),
    and `tests.builders.examiner_id(name)` gives their id. `acts_for_people`: a front-end's
    key that may send On-Behalf-Of."""
    from services.api.api_keys.service import create_api_key
    from services.api.auth import Role
    from shared.db import session_scope
    from shared.models import Person

    def make(
        role: str = "hr", name: str | None = None, acts_for_people: bool = False
    ) -> dict[str, str]:
        name = name or f"{role}-tester"
        with session_scope() as session:
            person_id = None
            if role == Role.EXAMINER:
                person = Person(name=name, email=f"{name}@examiners.test", roles=[role])
                session.add(person)
                session.flush()
                person_id = person.id
            _, key = create_api_key(
                session=session,
                name=name,
                role=Role(role),
                person_id=person_id,
                acts_for_people=acts_for_people,
            )
        return {"Authorization": f"Bearer {key}"}

    return make


@pytest.fixture
def hr(api_key: Any) -> dict[str, str]:
    return api_key("hr")


@pytest.fixture
def build(client: Any, hr: dict[str, str]) -> Builders:
    """Small builders that create jobs, candidates, applications… through the API."""
    return Builders(client, hr)


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) in this process, for the whole run."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_to(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Point the notifier at an SMTP server's port (for this test)."""
    from shared.settings import get_settings

    def point(port: int) -> None:
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(port))
        monkeypatch.setenv("SMTP_TIMEOUT", "2")
        get_settings.cache_clear()

    yield point
    get_settings.cache_clear()


@pytest.fixture
def mailbox(smtp_server: SmtpServer) -> Mailbox:
    """The SMTP server's mailbox, emptied for this test."""
    smtp_server.mailbox.clear()
    return smtp_server.mailbox
