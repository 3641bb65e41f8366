"""Redis goes away between a decision's commit and its publish: nothing is lost.

Runs when BROKER_URL is Redis (CI does): the stack here reaches Redis through a proxy that the
test takes down, so the api, both workers and beat all lose the broker at once.
"""

import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from shared.celery_app import make_celery
from shared.db import session_scope
from shared.models import OutboxEvent
from shared.settings import Settings
from tests.e2e.slice import post
from tests.mailbox import SmtpServer, free_port
from tests.proxy import TcpProxy
from tests.stack import start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.redis_broker]

OUTAGE_DB = 14  # a Redis database of its own, so no other stack in the run relays our events


def test_broker_down_at_publish_time_loses_nothing(smtp_server: SmtpServer, tmp_path: Path) -> None:
    redis = urlsplit(Settings().resolved_broker_url)
    proxy = TcpProxy((redis.hostname or "127.0.0.1", redis.port or 6379), free_port())
    broker_url = f"redis://127.0.0.1:{proxy.port}/{OUTAGE_DB}"
    proxy.up()
    make_celery("outage-purge", Settings(broker_url=broker_url)).control.purge()
    smtp_server.mailbox.clear()
    stack = start_stack(tmp_path, smtp_server.port, BROKER_URL=broker_url)
    try:
        http = httpx.Client(base_url=stack.base_url, headers=stack.create_api_key(), timeout=15)
        job = post(http, "/jobs", {"title": "Archiviste", "reference": "OUT-1", "year": 2026})
        application = post(
            http,
            "/applications",
            {
                "kind": "specific",
                "job_id": job["id"],
                "candidate": {"first_name": "Lotte", "last_name": "Maes", "email": "lotte@x.be"},
            },
        )

        proxy.down()
        validated = post(http, f"/applications/{application['id']}/validate")
        assert validated["status"] == "validated", "committed although the broker is down"
        with session_scope() as session:
            [event] = session.scalars(select(OutboxEvent)).all()
            assert event.published_at is None and event.last_error
        assert http.get("/readyz").status_code == 503
        time.sleep(3)
        assert smtp_server.mailbox.messages == [], "nothing can be sent while Redis is away"

        proxy.up()
        try:
            [received] = smtp_server.mailbox.wait_for(1, timeout=90)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{stack.log_tails()}") from None
        assert received.rcpt_tos == ["lotte@x.be"]
        with session_scope() as session:
            assert session.scalars(select(OutboxEvent.published_at)).one() is not None
        time.sleep(2)
        assert len(smtp_server.mailbox.messages) == 1, "exactly once"
    finally:
        stack.stop()
        proxy.down()
