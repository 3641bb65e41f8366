"""A deadline for every statement on PostgreSQL, kept by the client.

`statement_timeout` is the server's to enforce: a server that no longer answers at all (stopped,
or behind a network that drops packets without a reset) would hold the request, and its pool
connection, until the TCP stack gives up, which can take many minutes. So each statement also has
a deadline kept here, a little after the server's own: past it, the socket of its connection is
shut down, the driver raises OperationalError at once, SQLAlchemy discards that connection, and
the API answers 503 (a worker's task fails and is retried). One thread per process watches
every deadline; arming and disarming one costs a heap push and a dictionary update.
"""

import heapq
import itertools
import logging
import os
import socket
import threading
import time
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)


class _Watchdog:
    """Shuts down the sockets of statements still running past their deadline."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._deadlines: list[tuple[float, int]] = []  # (monotonic deadline, token)
        self._armed: dict[int, int] = {}  # token -> socket file descriptor
        self._tokens = itertools.count()
        self._pid = 0

    def arm(self, descriptor: int, seconds: float) -> int:
        with self._changed:
            if self._pid != os.getpid():  # first use in this process (or a forked child)
                self._pid = os.getpid()
                self._deadlines.clear()
                self._armed.clear()
                threading.Thread(target=self._watch, daemon=True, name="statement-deadline").start()
            token = next(self._tokens)
            self._armed[token] = descriptor
            deadline = time.monotonic() + seconds
            if not self._deadlines or deadline < self._deadlines[0][0]:
                self._changed.notify()  # else the watcher wakes before this one is due anyway
            heapq.heappush(self._deadlines, (deadline, token))
            return token

    def disarm(self, token: int) -> None:
        with self._changed:
            self._armed.pop(token, None)  # its heap entry is skipped when it comes up

    def _watch(self) -> None:
        with self._changed:
            while True:
                while self._deadlines and self._deadlines[0][1] not in self._armed:
                    heapq.heappop(self._deadlines)
                if not self._deadlines:
                    self._changed.wait()
                    continue
                left = self._deadlines[0][0] - time.monotonic()
                if left > 0:
                    self._changed.wait(left)
                    continue
                _, token = heapq.heappop(self._deadlines)
                _shut_down(self._armed.pop(token))


def _shut_down(descriptor: int) -> None:
    log.error("a database statement outlived its deadline: its connection is closed")
    try:
        sock = socket.socket(fileno=os.dup(descriptor))
    except OSError:
        return  # already closed
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()  # the duplicate only; the driver sees its socket shut down


_WATCHDOG = _Watchdog()
_TOKEN = "recrue.statement_deadline"


def watch(engine: Engine, seconds: float, ping_seconds: float) -> None:
    """Give every statement run on `engine` (psycopg) a client-side deadline of `seconds`, and
    the ping that checks a pooled connection before its use one of `ping_seconds` (it runs no
    events; a request on a hung server thus fails within about that)."""
    ping = engine.dialect.do_ping

    def do_ping(dbapi_connection: Any) -> bool:
        token = _WATCHDOG.arm(dbapi_connection.pgconn.socket, ping_seconds)
        try:
            return ping(dbapi_connection)
        finally:
            _WATCHDOG.disarm(token)

    setattr(engine.dialect, "do_ping", do_ping)  # noqa: B010  (this engine's dialect only)

    @event.listens_for(engine, "before_cursor_execute")
    def _arm(connection: Any, *_: Any) -> None:
        descriptor = connection.connection.dbapi_connection.pgconn.socket
        connection.info[_TOKEN] = _WATCHDOG.arm(descriptor, seconds)

    @event.listens_for(engine, "after_cursor_execute")
    def _disarm(connection: Any, *_: Any) -> None:
        token = connection.info.pop(_TOKEN, None)
        if token is not None:
            _WATCHDOG.disarm(token)

    @event.listens_for(engine, "handle_error")
    def _disarm_on_error(context: Any) -> None:
        connection = context.connection
        token = connection.info.pop(_TOKEN, None) if connection is not None else None
        if token is not None:
            _WATCHDOG.disarm(token)
