"""Domain errors, mapped once to problem+json (RFC 9457)."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.participations import SlotFull, UnknownSlot
from shared.workflow import TransitionRefused

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """A request the domain refuses; `status` and `slug` say how."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class Invalid(DomainError):
    status, slug, title = 422, "validation-error", "Invalid request"


class Unauthorized(DomainError):
    status, slug, title = 401, "unauthorized", "Unauthorized"


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Forbidden"


def problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {"type": f"urn:recrue:problem:{slug}", "title": title, "status": status}
    body["detail"] = detail
    body.update(jsonable_encoder(extra))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return problem(exc.status, exc.slug, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(TransitionRefused)
    async def transition_refused(_: Request, exc: TransitionRefused) -> JSONResponse:
        return problem(
            409, "state-conflict", "Not allowed in this state", str(exc), state=exc.state
        )

    @app.exception_handler(SlotFull)
    async def slot_full(_: Request, exc: SlotFull) -> JSONResponse:
        return problem(409, "slot-full", "Slot full", str(exc), state="full", slot_id=exc.slot_id)

    @app.exception_handler(UnknownSlot)
    async def unknown_slot(_: Request, exc: UnknownSlot) -> JSONResponse:
        return problem(404, "not-found", "Not found", str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        fields = sorted({".".join(str(p) for p in e["loc"][1:]) for e in errors if e["loc"]})
        detail = "invalid " + ", ".join(fields) if fields else "invalid request"
        return problem(422, "validation-error", "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        return problem(exc.status_code, f"http-{exc.status_code}", title, str(exc.detail))

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def database_unavailable(request: Request, exc: Exception) -> Response:
        # The database refused or dropped the connection (down, restarting, every connection
        # taken): an answer to retry, not a fault of the request or of our code.
        log.warning("database unavailable: %s", exc)
        if request.url.path.startswith("/c/"):  # a candidate gets a page, in their language
            from services.api.candidate_pages.router import unavailable

            return unavailable(request)
        response = problem(
            503,
            "service-unavailable",
            "Service unavailable",
            "the database did not answer: please try again in a few seconds",
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return problem(500, "internal-error", "Internal error", "an unexpected error occurred")
