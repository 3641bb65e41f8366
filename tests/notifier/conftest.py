"""A scripted SMTP server (aiosmtpd) for failure classes."""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.mailbox import free_port


class Scripted:
    """Answers RCPT and DATA as told; `stall` makes DATA hang past the client's timeout."""

    def __init__(self, rcpt: str = "250 OK", data: str = "250 OK", stall: float = 0) -> None:
        self.rcpt, self.data, self.stall = rcpt, data, stall

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, _: Any
    ) -> str:
        if self.rcpt.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.stall:
            await asyncio.sleep(self.stall)
        return self.data


@pytest.fixture
def scripted() -> Iterator[Any]:
    controllers: list[Controller] = []

    def start(handler: Scripted) -> int:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()
