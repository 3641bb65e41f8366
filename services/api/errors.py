"""Domain and framework errors, mapped once to problem+json (RFC 9457).

Every error answer has one shape: `type` (`urn:recrue:problem:<slug>`, one per kind of problem,
listed in PROBLEMS and in the README), `title`, `status`, `detail` (a sentence), and:
- `errors`, a list of `{field, message}`, on every 422: `field` is where the value was, as a
  dotted path that starts with `body`, `query`, `path` or `header` (`body.candidate.email`,
  `query.cursor`); `body` alone for a rule about the body as a whole;
- `state` on every 409 refused because of a state;
- sometimes more members naming what the problem is about (`candidate_id`, `slot_id`...).
"""

import logging
from typing import Any

from fastapi import FastAPI, Request, params
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
TYPE_PREFIX = "urn:recrue:problem:"

# Every kind of problem the API answers with: slug -> (status, title, meaning).
PROBLEMS: dict[str, tuple[int, str, str]] = {
    "bad-request": (
        400,
        "Bad request",
        "the body could not be parsed at all (malformed multipart, JSON nested too deep)",
    ),
    "unauthorized": (
        401,
        "Unauthorized",
        "no API key or token, an unknown or revoked key, or a token that failed `check`",
    ),
    "forbidden": (
        403,
        "Forbidden",
        "the caller's role may not do this, or not on this object; or the person acting is "
        "unknown or inactive",
    ),
    "not-found": (404, "Not found", "no such id (named in `detail`), or no such route"),
    "method-not-allowed": (405, "Method not allowed", "the path exists; `Allow` lists its methods"),
    "state-conflict": (409, "Not allowed in this state", "the action is refused in `state`"),
    "slot-full": (409, "Slot full", "every seat of `slot_id` is taken (`state`: `full`)"),
    "already-exists": (
        409,
        "Already exists",
        "a duplicate: names what exists (`candidate_id`, `application_id`)",
    ),
    "idempotent-answer-lost": (
        409,
        "Done, answer not kept",
        "the first request with this Idempotency-Key was done, its answer was not recorded",
    ),
    "idempotent-answer-not-kept": (
        409,
        "Done, answer not kept",
        "the first request with this Idempotency-Key was done; its answer held a secret",
    ),
    "too-large": (413, "Request too large", "the body is over MAX_BODY_KB or MAX_UPLOAD_MB"),
    "unsupported-media-type": (
        415,
        "Unsupported media type",
        "the body's Content-Type, or an uploaded file's content, is not one accepted here",
    ),
    "validation-error": (422, "Invalid request", "`errors` lists each failing field"),
    "idempotency-key-reused": (
        422,
        "Idempotency-Key reused",
        "this Idempotency-Key came before with another request",
    ),
    "internal-error": (500, "Internal error", "a bug: the request may be sent again"),
    "service-unavailable": (
        503,
        "Service unavailable",
        "the database did not answer; `Retry-After` says when to try again",
    ),
    "provider-unavailable": (
        503,
        "Identity provider unavailable",
        "the OpenID provider's configuration or keys could not be read",
    ),
    "not-ready": (503, "Not ready", "`/readyz`: `checks` names each unreachable dependency"),
}


class DomainError(Exception):
    """A request the domain refuses; `status` and `slug` say how."""

    status = 400
    slug = "bad-request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def response(self) -> JSONResponse:
        return problem(self.slug, self.detail, **self.extra)


class NotFound(DomainError):
    status, slug = 404, "not-found"


class Conflict(DomainError):
    """The state of something refuses the action: a 409 naming that `state`."""

    status, slug = 409, "state-conflict"

    def __init__(self, detail: str, *, state: str, **extra: Any) -> None:
        super().__init__(detail, state=state, **extra)


class Duplicate(DomainError):
    """What the request would create exists already: a 409 naming it."""

    status, slug = 409, "already-exists"


class Invalid(DomainError):
    """A field's value the domain refuses (a 422 whose `errors` name it, `in` its part of the
    request: `body` by default, or `query`, `path`, `header`)."""

    status, slug = 422, "validation-error"

    def __init__(self, detail: str, *, field: str, at: str = "body", **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.errors = [field_error(f"{at}.{field}", detail)]

    def response(self) -> JSONResponse:
        return problem(self.slug, self.detail, errors=self.errors, **self.extra)


class Unauthorized(DomainError):
    status, slug = 401, "unauthorized"


class Forbidden(DomainError):
    status, slug = 403, "forbidden"


class Unavailable(DomainError):
    status, slug = 503, "provider-unavailable"


def field_error(field: str, message: str) -> dict[str, str]:
    """One entry of a 422's `errors`."""
    return {"field": field, "message": message}


def problem(
    slug: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response of a kind listed in PROBLEMS."""
    status, title, _ = PROBLEMS[slug]
    body: dict[str, Any] = {
        "type": f"{TYPE_PREFIX}{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update(jsonable_encoder(extra))
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def invalid(errors: list[dict[str, str]], slug: str = "validation-error") -> JSONResponse:
    """A 422 naming the failing fields, with a `detail` that names them too."""
    shown = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    noun = "field is" if len(errors) == 1 else "fields are"
    return problem(slug, f"{len(errors)} {noun} invalid: {shown}{more}", errors=errors)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    """`("body", "candidate", "email")` -> `body.candidate.email`; `("body",)` -> `body`."""
    return ".".join(str(part) for part in loc) or "body"


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "")) or "invalid value"
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error")
        return f"the body is not valid JSON ({reason})" if reason else "the body is not valid JSON"
    return message.removeprefix("Value error, ")


def _unread_media_type(request: Request) -> str | None:
    """Why the route could not read the request's body for its media type, if that is why it
    is invalid: a JSON route sent something else, or a form route something not a form."""
    route = request.scope.get("route")
    body_field = getattr(route, "body_field", None)
    if body_field is None:
        return None
    given = request.headers.get("content-type", "")
    media_type = given.partition(";")[0].strip().lower()
    if isinstance(body_field.field_info, params.Form):
        accepted = ["multipart/form-data"]
        # A form whose file is optional (a candidate page's) also reads a form without one.
        if not any(
            isinstance(f.field_info, params.File) and f.field_info.is_required()
            for f in _body_fields(route)
        ):
            accepted.append("application/x-www-form-urlencoded")
        if media_type in accepted:
            return None
    else:
        accepted = ["application/json"]
        if media_type == "application/json" or media_type.endswith("+json"):
            return None
        if not media_type and not int(request.headers.get("content-length") or 0):
            return None  # no body at all: a missing field, said as such
    shown = f"'{given}'" if given else "no Content-Type"
    return f"this route reads {' or '.join(accepted)}, not {shown}"


def _body_fields(route: Any) -> list[Any]:
    return list(getattr(route.dependant, "body_params", []))


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(TransitionRefused)
    async def transition_refused(_: Request, exc: TransitionRefused) -> JSONResponse:
        return problem("state-conflict", str(exc), state=exc.state)

    @app.exception_handler(SlotFull)
    async def slot_full(_: Request, exc: SlotFull) -> JSONResponse:
        return problem("slot-full", str(exc), state="full", slot_id=exc.slot_id)

    @app.exception_handler(UnknownSlot)
    async def unknown_slot(_: Request, exc: UnknownSlot) -> JSONResponse:
        return problem("not-found", str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        unread = _unread_media_type(request)
        if unread is not None:
            return problem("unsupported-media-type", unread)
        errors = [field_error(_field(e.get("loc", ())), _message(e)) for e in exc.errors()]
        return invalid(errors or [field_error("body", "the request is invalid")])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # The framework's own refusals: no route, a method the path does not have, a body that
        # cannot be parsed at all.
        headers = dict(exc.headers or {})
        if exc.status_code == 404:
            return problem("not-found", f"no route {request.url.path}", headers=headers)
        if exc.status_code == 405:
            from services.api.openapi import allowed_methods

            allowed = ", ".join(allowed_methods(request.app, request.url.path))
            headers["Allow"] = allowed
            detail = f"{request.method} is not allowed on {request.url.path}"
            return problem(
                "method-not-allowed",
                f"{detail}; allowed: {allowed}" if allowed else detail,
                headers=headers,
            )
        if exc.status_code == 400:
            return problem("bad-request", f"the body could not be parsed: {exc.detail}")
        slug = next((s for s, p in PROBLEMS.items() if p[0] == exc.status_code), None)
        if slug is None:
            log.error("unexpected HTTP error %s: %s", exc.status_code, exc.detail)
            return problem("internal-error", "an unexpected error occurred")
        return problem(slug, str(exc.detail), headers=headers)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def database_unavailable(request: Request, exc: Exception) -> Response:
        # The database refused or dropped the connection (down, restarting, every connection
        # taken): an answer to retry, not a fault of the request or of our code.
        log.warning("database unavailable: %s", exc)
        if request.url.path.startswith("/c/"):  # a candidate gets a page, in their language
            from services.api.candidate_pages.router import unavailable

            return unavailable(request)
        return problem(
            "service-unavailable",
            "the database did not answer: please try again in a few seconds",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return problem("internal-error", "an unexpected error occurred")
