"""The embedded broker: a consumer never reads a message that is still being written."""

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

import shared.embedded_broker
from shared.embedded_broker import dumps

COUNT = 60


def _connection(folder: Path, transport: str) -> Connection:
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(folder / "control"),  # kombu's default is ./control
        "polling_interval": 0.001,
    }
    return Connection("filesystem://", transport=transport, transport_options=options)


def test_consumer_never_reads_a_half_written_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow_dumps(payload: Any) -> str:
        time.sleep(0.02)  # a busy machine: the write lags behind the file's creation
        return str(dumps(payload))

    monkeypatch.setattr(shared.embedded_broker, "dumps", slow_dumps)
    transport = "shared.embedded_broker:Transport"
    received: list[int] = []
    errors: list[BaseException] = []

    def consume() -> None:
        with _connection(tmp_path, transport) as connection:
            queue = connection.SimpleQueue("race")
            try:
                while len(received) < COUNT:
                    message = queue.get(timeout=20)
                    received.append(message.payload["n"])
                    message.ack()
            except BaseException as exc:  # kombu's own transport dies here on an empty file
                errors.append(exc)

    with _connection(tmp_path, transport) as connection:
        # Declared before the consumer starts: this test is about messages, not bindings.
        queue = connection.SimpleQueue("race")
        consumer = threading.Thread(target=consume)
        consumer.start()
        for n in range(COUNT):
            queue.put({"n": n})
        consumer.join(timeout=60)
    assert errors == []
    assert sorted(received) == list(range(COUNT))
    assert not list(tmp_path.glob("*.partial"))
