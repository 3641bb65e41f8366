"""A hung Redis or PostgreSQL (the TCP connection is accepted, nothing ever answers) never
freezes the api: every network wait is bounded (BROKER_TIMEOUT, DATABASE_CONNECT_TIMEOUT,
READYZ_TIMEOUT)."""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url, select

from tests.e2e.slice import apply_and_validate
from tests.mailbox import free_port
from tests.proxy import TcpProxy
from tests.stack import Stack, wait_until_healthy

pytestmark = pytest.mark.e2e


def _frozen_proxy(host: str | None, port: int | None) -> TcpProxy:
    proxy = TcpProxy((host or "127.0.0.1", port or 0), free_port())
    proxy.up()
    proxy.freeze()
    return proxy


def _api(logs: Path, **env: str) -> Stack:
    port = free_port()
    stack = Stack(base_url=f"http://127.0.0.1:{port}", env={**os.environ, **env}, logs=logs)
    stack.start("api", "api", "--port", str(port))
    try:
        wait_until_healthy(stack.base_url, stack)
    except BaseException:
        stack.stop()
        raise
    return stack


def _timed(call: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


@pytest.fixture
def hung_redis(tmp_path: Path) -> Iterator[tuple[Stack, TcpProxy]]:
    url = make_url(os.environ["BROKER_URL"])
    proxy = _frozen_proxy(url.host, url.port)
    stack = _api(tmp_path, BROKER_URL=f"redis://127.0.0.1:{proxy.port}/{url.database or 0}")
    yield stack, proxy
    stack.stop()
    proxy.down()


@pytest.mark.redis_broker
def test_a_hung_redis_delays_a_committed_write_by_seconds_at_most(
    hung_redis: tuple[Stack, TcpProxy], api_key: Any
) -> None:
    from shared.db import session_scope
    from shared.models import OutboxEvent

    stack, _ = hung_redis
    with httpx.Client(base_url=stack.base_url, headers=api_key("hr"), timeout=30) as http:
        started = time.monotonic()
        _, dossier_id = apply_and_validate(http, "gel@example.org", "HUNG-1")
        assert time.monotonic() - started < 15, "the writes waited on the hung broker"
        assert http.get(f"/api/v1/dossiers/{dossier_id}").status_code == 200

        ready, took = _timed(lambda: http.get("/readyz"))
    assert ready.status_code == 503, ready.text
    assert "broker" in ready.json()["checks"]
    assert took < 5, f"/readyz took {took:.1f} s"
    with session_scope() as session:
        left = session.scalars(select(OutboxEvent).where(OutboxEvent.published_at.is_(None)))
        assert [e.last_error for e in left], "the event given up on is left to the relay"


@pytest.fixture
def hung_postgres(tmp_path: Path) -> Iterator[tuple[Stack, TcpProxy]]:
    url = make_url(os.environ["DATABASE_URL"])
    if url.get_backend_name() != "postgresql":
        pytest.skip("a network database: PostgreSQL only")
    proxy = _frozen_proxy(url.host, url.port)
    through = url.set(host="127.0.0.1", port=proxy.port)
    stack = _api(
        tmp_path,
        DATABASE_URL=through.render_as_string(hide_password=False),
        DATABASE_CONNECT_TIMEOUT="2",
    )
    yield stack, proxy
    stack.stop()
    proxy.down()


def test_a_hung_postgresql_gets_503_not_a_hang(hung_postgres: tuple[Stack, TcpProxy]) -> None:
    stack, _ = hung_postgres
    with httpx.Client(base_url=stack.base_url, timeout=30) as http:
        ready, took = _timed(lambda: http.get("/readyz"))
        assert ready.status_code == 503, ready.text
        assert "database" in ready.json()["checks"]
        assert took < 5, f"/readyz took {took:.1f} s"

        headers = {"Authorization": "Bearer some-key"}
        answer, took = _timed(lambda: http.get("/api/v1/jobs", headers=headers))
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert took < 10, f"the request took {took:.1f} s"
