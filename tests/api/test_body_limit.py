"""Request bodies are limited as they stream in, before authentication and before anything
buffers them (the Idempotency-Key middleware does)."""

import json
import os
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mailbox import free_port
from tests.stack import Stack, wait_until_healthy

MB = 1024 * 1024


def _problem_413(answer: Any) -> None:
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"] == "urn:recrue:problem:too-large"


def test_a_large_json_body_is_refused_before_the_key_is_checked(client: Any) -> None:
    body = json.dumps({"title": "x" * (2 * MB), "reference": "BIG-1", "year": 2027})
    headers = {"content-type": "application/json"}
    _problem_413(client.post("/api/v1/jobs", content=body, headers=headers))
    keyed = headers | {"Idempotency-Key": "big-1", "Authorization": "Bearer nope"}
    _problem_413(client.post("/api/v1/jobs", content=body, headers=keyed))
    # Under the limit, the key is checked as before.
    assert client.post("/api/v1/jobs", json={"title": "x"}).status_code == 401


def test_a_chunked_body_is_cut_at_the_limit(client: Any) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        while sent < 50 * MB:
            sent += 64 * 1024
            yield b" " * (64 * 1024)

    answer = client.post(
        "/api/v1/jobs", content=chunks(), headers={"content-type": "application/json"}
    )
    _problem_413(answer)


def test_uploads_have_their_own_limit(client: Any, build: Any, hr: dict[str, str]) -> None:
    application = build.application()
    path = f"/api/v1/applications/{application['id']}/cv"
    pdf = b"%PDF-1.4\n" + b"0" * (2 * MB)  # over the JSON limit, under MAX_UPLOAD_MB (10)
    assert client.post(path, files={"file": ("cv.pdf", pdf, "x")}, headers=hr).status_code == 201
    huge = b"%PDF-1.4\n" + b"0" * (11 * MB)
    _problem_413(client.post(path, files={"file": ("cv.pdf", huge, "x")}))  # no key either


@pytest.fixture
def api_process(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """`recrue api` (uvicorn) on a free port: its pid and port."""
    port = free_port()
    stack = Stack(base_url=f"http://127.0.0.1:{port}", env=dict(os.environ), logs=tmp_path)
    stack.start("api", "api", "--port", str(port))
    try:
        wait_until_healthy(stack.base_url, stack)
        yield stack.processes["api"].pid, port
    finally:
        stack.stop()


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _stream(port: int, head: bytes, total: int, chunked: bool) -> tuple[bytes, int]:
    """Send `head` then up to `total` bytes of body; the answer's first bytes and how much of
    the body went out before it came."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setblocking(False)
    sent, answer = 0, b""
    pending = head
    piece = b" " * (64 * 1024)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and b"\r\n\r\n" not in answer:
            if not pending and sent < total:
                pending = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
                sent += len(piece)
            readable, writable, _ = select.select([sock], [sock] if pending else [], [], 1)
            if readable:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
            elif writable:
                try:
                    pending = pending[sock.send(pending) :]
                except (BrokenPipeError, ConnectionResetError):
                    pending = b""
    finally:
        sock.close()
    return answer, sent


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_real_server_stops_reading_at_the_limit(
    api_process: tuple[int, int], chunked: bool
) -> None:
    pid, port = api_process
    before = _rss_kb(pid)
    total = 200 * MB
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % total
    head = (
        b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nIdempotency-Key: k-1\r\n" + framing + b"\r\n\r\n"
    )
    answer, sent = _stream(port, head, total, chunked)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"application/problem+json" in answer
    assert sent < 40 * MB, f"{sent >> 20} MB went out before the answer"
    assert _rss_kb(pid) - before < 30 * 1024, "the api grew by the body it should have refused"
