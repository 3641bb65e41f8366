"""The FastAPI application."""

import time

from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Histogram

from services.api import errors
from services.api.api_keys.router import router as api_keys
from services.api.applications.router import router as applications
from services.api.candidate_pages.router import router as candidate_pages
from services.api.candidates.router import router as candidates
from services.api.deliberation.router import router as deliberation
from services.api.dossiers.router import router as dossiers
from services.api.health.router import router as health
from services.api.jobs.router import router as jobs
from services.api.messages.router import router as messages
from services.api.notices.router import router as notices
from services.api.previews.router import router as previews
from services.api.results.router import router as results
from services.api.stats.router import router as stats
from services.api.trials.router import router as trials

REQUESTS = Counter("recrue_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("recrue_http_request_seconds", "HTTP request latency", ["method", "route"])


def create_app() -> FastAPI:
    """Build the API with its routers, error handlers and metrics."""
    app = FastAPI(
        title="Recrue",
        summary="Recruitment back end for public administrations",
        version="0.1.0",
    )
    errors.install(app)
    app.include_router(health)
    app.include_router(candidate_pages)
    for router in (
        api_keys,
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
        stats,
    ):
        app.include_router(router, prefix="/api/v1")

    @app.middleware("http")
    async def measure(request: Request, call_next):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        LATENCY.labels(request.method, path).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, path, str(response.status_code)).inc()
        return response

    return app


app = create_app()
