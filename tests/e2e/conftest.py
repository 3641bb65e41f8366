"""The whole stack as separate processes, for the end-to-end tests."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.mailbox import SmtpServer
from tests.stack import Stack, start_stack


@pytest.fixture(scope="module")
def stack(smtp_server: SmtpServer, tmp_path_factory: Any) -> Iterator[Stack]:
    """The api, both workers and beat, on the run's database and broker and the test's SMTP.

    Per module: once a module is done its workers and beat stop, so they never act on what
    later tests write to the same database (beat's sweeps would expire their invitations).
    """
    stack = start_stack(tmp_path_factory.mktemp("logs"), smtp_server.port)
    yield stack
    stack.stop()
