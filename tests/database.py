"""A fresh, migrated database for one test run or one bench run."""

import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, make_url, text


def fresh_database(url: str, var_dir: Path) -> tuple[str, Callable[[], None]]:
    """A new database on the PostgreSQL server of `url` (or a SQLite file), migrated to head.

    Returns its URL and the function that drops it.
    """
    from services.api.migrations import upgrade_to_head

    if not url.startswith("postgresql"):
        path = var_dir / "recrue.db"
        upgrade_to_head(f"sqlite:///{path}")
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    server = make_url(url)
    name = f"recrue_test_{uuid.uuid4().hex[:10]}"
    _execute(server, f'CREATE DATABASE "{name}"')
    fresh = server.set(database=name).render_as_string(hide_password=False)
    upgrade_to_head(fresh)
    return fresh, lambda: _execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _execute(server: object, statement: str) -> None:
    engine = create_engine(server, isolation_level="AUTOCOMMIT")  # type: ignore[call-overload]
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()
