"""The FastAPI application."""

import time

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api import errors, idempotency, openapi, security
from services.api.api_keys.router import router as api_keys
from services.api.applications.router import router as applications
from services.api.body_limit import BodyLimit
from services.api.candidate_pages.router import router as candidate_pages
from services.api.candidate_pages.router import statement_router
from services.api.candidates.router import router as candidates
from services.api.deliberation.router import router as deliberation
from services.api.dossiers.router import router as dossiers
from services.api.health.router import router as health
from services.api.jobs.router import router as jobs
from services.api.messages.router import router as messages
from services.api.notices.router import router as notices
from services.api.people.router import feeds as calendar_feeds
from services.api.people.router import router as people
from services.api.previews.router import router as previews
from services.api.privacy.router import router as privacy
from services.api.results.router import router as results
from services.api.stats.router import router as stats
from services.api.trials.router import router as trials
from shared.secret_key import require_secret_key
from shared.settings import get_settings

CORS_MAX_AGE = 600  # seconds a browser may keep a preflight's answer
REQUESTS = Counter("recrue_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("recrue_http_request_seconds", "HTTP request latency", ["method", "route"])


class Metrics:
    """Count and time every request by route (a plain ASGI middleware: Starlette's
    BaseHTTPMiddleware costs an extra task and stream per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")  # set by the router
            LATENCY.labels(scope["method"], path).observe(time.perf_counter() - started)
            REQUESTS.labels(scope["method"], path, str(status)).inc()


def create_app() -> FastAPI:
    """Build the API with its routers, error handlers and metrics."""
    require_secret_key()  # refuse to start with a default or short SECRET_KEY
    app = FastAPI(
        title="Recrue",
        summary="Recruitment back end for public administrations",
        version="0.1.0",
        docs_url=None,  # served by security.docs_routes, without a CDN
        redoc_url=None,
        openapi_url="/openapi.json" if get_settings().docs_enabled else None,
    )
    errors.install(app)
    if get_settings().docs_enabled:
        security.docs_routes(app)
    app.include_router(health)
    app.include_router(candidate_pages)
    app.include_router(statement_router)
    app.include_router(calendar_feeds)
    for router in (
        api_keys,
        people,
        jobs,
        candidates,
        applications,
        dossiers,
        trials,
        results,
        deliberation,
        messages,
        notices,
        previews,
        privacy,
        stats,
    ):
        app.include_router(router, prefix="/api/v1")

    app.add_exception_handler(idempotency.Replay, idempotency.replay_handler)
    app.add_middleware(idempotency.IdempotentWrites)
    app.add_middleware(security.RejectNulInQuery)
    app.add_middleware(Metrics)
    app.add_middleware(BodyLimit)  # nothing reads a body before its limit applies
    # Outside BodyLimit and every check: a preflight is answered before them, and their
    # answers (401, 413...) carry the CORS headers too.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=get_settings().cors_origin_list,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        expose_headers=["Idempotent-Replayed", "Retry-After", "Content-Disposition"],
        max_age=CORS_MAX_AGE,
    )
    # Outermost: the headers go on every answer, the 413s of BodyLimit included.
    app.add_middleware(security.SecurityHeaders)
    openapi.install(app)
    return app


app = create_app()
