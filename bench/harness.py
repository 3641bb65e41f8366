"""What every bench needs: a fresh database, an SMTP server in this process, the real stack."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.database import fresh_database
from tests.mailbox import SmtpServer
from tests.stack import Stack, start_stack


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
