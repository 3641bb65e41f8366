"""Liveness, readiness and Prometheus metrics."""

import threading
import time
from collections.abc import Callable

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from services.api.errors import problem
from shared.celery_app import make_celery
from shared.db import get_engine
from shared.settings import get_settings

router = APIRouter(tags=["operations"])


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


@router.get("/readyz", response_model=None)
def readyz() -> JSONResponse | dict[str, object]:
    """The database and the broker answer, each within READYZ_TIMEOUT seconds."""
    checks = _bounded({"database": _check_database, "broker": _check_broker})
    if any(checks.values()):
        failing = {name: error for name, error in checks.items() if error}
        return problem(503, "not-ready", "Not ready", "a dependency is unreachable", checks=failing)
    return {"status": "ready", "checks": {name: "ok" for name in checks}}


@router.get("/metrics")
def metrics() -> Response:
    """Prometheus text exposition."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
