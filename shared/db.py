"""Engine and session factories shared by the api and the workers."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

from shared import statement_deadline
from shared.settings import Settings, get_settings

# How long after the server's own statement_timeout the client gives up on a statement.
DEADLINE_MARGIN = 2.0


def make_engine(
    url: str, *, statement_limits: bool = True, settings: Settings | None = None
) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout so several processes can share it.
    PostgreSQL gets a connect timeout and (unless `statement_limits` is False, as for
    migrations) a statement and a lock timeout, so that a hung server cannot hold a request.

    SQL parameters are personal data (names, emails, notes): `hide_parameters` keeps them out of
    the text of database errors, and so out of every log that prints one."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    # At most 15 connections per process: with several API workers and the Celery processes,
    # the total stays under PostgreSQL's default max_connections (100). A request that finds
    # them all busy waits for one (pool_timeout), rather than failing.
    settings = settings or Settings()  # not get_settings(): a migration may run before it is set
    connect_args: dict[str, object] = {"connect_timeout": settings.database_connect_timeout}
    if statement_limits:
        limits = {
            "statement_timeout": settings.database_statement_timeout,
            "lock_timeout": settings.database_lock_timeout,
        }
        connect_args["options"] = " ".join(
            f"-c {name}={int(seconds * 1000)}" for name, seconds in limits.items()
        )
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        pool_timeout=30,
        connect_args=connect_args,
        hide_parameters=True,
    )
    limit = settings.database_statement_timeout
    if statement_limits and limit > 0:  # and a server that stops answering is not waited for
        statement_deadline.watch(
            engine, limit + DEADLINE_MARGIN, ping_seconds=settings.database_connect_timeout
        )
    return engine


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for DATABASE_URL."""
    settings = get_settings()
    return make_engine(settings.resolved_database_url, settings=settings)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    """The process-wide session factory."""
    return sessionmaker(get_engine(), expire_on_commit=False)


def prepare_before_fork() -> None:
    """In a prefork parent: create the engine (importing the driver) and configure the ORM
    mappers once, instead of in each child as its first task runs (about 0.4 s of CPU per
    process on the development machine, paid while the first emails of a bulk send wait).
    No connection is opened; each child still opens its own."""
    import shared.models  # noqa: F401  (every mapper, so that all can be configured)

    get_engine()
    configure_mappers()


def forget_parent_connections() -> None:
    """In a forked child: never use a connection the parent's pool may hold (there should be
    none, see prepare_before_fork; this makes sure)."""
    get_engine().dispose(close=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on error (workers use this)."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
