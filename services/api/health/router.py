"""Liveness, readiness and Prometheus metrics."""

import hmac
import logging
import threading
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.api.errors import Unauthorized, problem
from services.api.openapi import problems
from services.api.openapi import text as text_content
from shared.celery_app import make_celery
from shared.db import get_engine, session_scope
from shared.models import CalendarReplyCount
from shared.replies import Outcome
from shared.settings import get_settings

router = APIRouter(tags=["operations"])
# The classic text format (what generate_latest writes: metric names are plain ASCII here).
METRICS_TYPE = "text/plain; version=0.0.4"
log = logging.getLogger(__name__)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


def _check_database() -> str | None:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_broker() -> str | None:
    try:
        with make_celery("recrue-readyz").connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _bounded(checks: dict[str, Callable[[], str | None]]) -> dict[str, str | None]:
    """Run the checks at once, each in its own thread; one still running after READYZ_TIMEOUT
    seconds fails (its thread is left to end on its own timeouts)."""
    timeout = get_settings().readyz_timeout
    results: dict[str, str | None] = {name: f"no answer within {timeout:g} s" for name in checks}

    def run(name: str, check: Callable[[], str | None]) -> None:
        results[name] = check()

    threads = [
        threading.Thread(target=run, args=item, daemon=True, name=f"readyz-{item[0]}")
        for item in checks.items()
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return dict(results)


@router.get(
    "/readyz",
    response_model=dict[str, object],
    responses=problems(503, unavailable="Not ready: `checks` names each unreachable dependency"),
)
def readyz() -> JSONResponse | dict[str, object]:
    """The database and the broker answer, each within READYZ_TIMEOUT seconds."""
    checks = _bounded({"database": _check_database, "broker": _check_broker})
    if any(checks.values()):
        # The errors name hosts, ports and sometimes users: they go to the log, not to whoever
        # asks (the probe is open); the answer says which check failed.
        for name, error in checks.items():
            if error:
                log.warning("readyz: %s unreachable: %s", name, error)
        failing = {name: "unreachable" for name, error in checks.items() if error}
        return problem("not-ready", f"unreachable: {', '.join(sorted(failing))}", checks=failing)
    return {"status": "ready", "checks": {name: "ok" for name in checks}}


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"description": "Prometheus text exposition", "content": text_content(METRICS_TYPE)},
        **problems(
            401,
            404,
            unauthorized="With METRICS_TOKEN: not its bearer",
            not_found="METRICS_ENABLED=false",
        ),
    },
)
def metrics(authorization: Annotated[str | None, Header()] = None) -> Response:
    """Prometheus text exposition (METRICS_ENABLED; with METRICS_TOKEN, for its bearer only)."""
    settings = get_settings()
    if not settings.metrics_enabled:
        raise StarletteHTTPException(404)  # as if there were no such route
    if settings.metrics_token:
        scheme, _, token = (authorization or "").partition(" ")
        expected = settings.metrics_token.encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
            raise Unauthorized("metrics need Authorization: Bearer <METRICS_TOKEN>")
    return Response(
        generate_latest() + generate_latest(_FROM_DATABASE),
        media_type=f"{METRICS_TYPE}; charset=utf-8",
    )


class _CalendarReplies(Collector):
    """`recrue_calendar_replies_total{outcome}`: the emails read as calendar answers, counted
    in the database by the process that read them (the scheduler's poll, `recrue
    ingest-mail`), read at scrape time. Every outcome is exported, 0 until its first email;
    without the database, the family is left out (and logged) rather than the scrape failed."""

    def collect(self) -> list[CounterMetricFamily]:
        try:
            with session_scope() as session:
                query = select(CalendarReplyCount.outcome, CalendarReplyCount.count)
                rows = {outcome: count for outcome, count in session.execute(query)}
        except SQLAlchemyError as exc:
            log.warning("calendar answers not exported: %s", exc)
            return []
        family = CounterMetricFamily(
            "recrue_calendar_replies",
            "Emails read as calendar answers (iTIP REPLY/COUNTER), by outcome",
            labels=["outcome"],
        )
        for outcome in sorted({*(o.value for o in Outcome), "error", *rows}):
            family.add_metric([outcome], rows.get(outcome, 0))
        return [family]


_FROM_DATABASE = CollectorRegistry(auto_describe=False)
_FROM_DATABASE.register(_CalendarReplies())
