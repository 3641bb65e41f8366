"""The OpenAPI document, told truthfully: what each route can answer, and with what media type.

FastAPI documents the success answer of each route and a 422 in its own shape. This module
completes the document once it is generated:
- every error answer a route can give is `application/problem+json` with the `Problem` schema:
  401 where a key is checked, 403 where a role is checked, 404 where a path names an id, 400,
  413 and 415 where a body is read, 422 everywhere (query parameters are checked on every route,
  see `security.RejectNulInQuery`), 503 where the database is used; 404 for an id given in a
  body, and 409, only where a route declares them with `problems(...)`;
- every write of the HR API declares the `Idempotency-Key` header and the `Idempotent-Replayed`
  answer header;
- a success answer declared in another media type (a PDF, a page) does not also claim JSON.
"""

from collections.abc import Callable, Iterator
from typing import Any

import email_validator
import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from services.api import idempotency
from services.api.errors import PROBLEM_JSON, PROBLEMS, TYPE_PREFIX
from services.api.idempotency import KEY_PATTERN_TEXT, MAX_KEY, WRITES
from services.api.schemas import NO_NUL, NOT_BLANK

DESCRIPTIONS = {
    400: "The body could not be parsed at all (malformed multipart, JSON nested too deep)",
    401: "No API key or token, an unknown or revoked key, or a token that failed `check` "
    "(`WWW-Authenticate: Bearer`)",
    403: "The caller's role may not do this, or not on this object; or the person acting is "
    "unknown or inactive",
    404: "No such id (`detail` names it)",
    409: "Refused in the current state (`state` names it)",
    413: "The body is over its limit (MAX_BODY_KB; MAX_UPLOAD_MB on uploads)",
    415: "The body's Content-Type is not one this route reads",
    422: "Invalid request: `errors` names each failing field",
    503: "The database did not answer: try again after `Retry-After` seconds",
}
WRITE_CONFLICTS = (
    "Refused by the current state (`state-conflict`, `slot-full`: `state` names it), a "
    "duplicate (`already-exists` names what exists), or a repeated Idempotency-Key whose first "
    "answer was lost (`idempotent-answer-lost`) or held a secret (`idempotent-answer-not-kept`)"
)
_MARK = "x-recrue-problem"  # a description set by `problems`, until `complete` replaces it


def problems(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the error answers that the route's own logic can give and that
    `complete` cannot infer (404 for an id in the body, 409, a 403 checked per object).
    `descriptions` override the defaults: `problems(409, conflict="...")`."""
    named = {
        "unauthorized": 401,
        "forbidden": 403,
        "not_found": 404,
        "conflict": 409,
        "unavailable": 503,
    }
    texts = {named[key]: text for key, text in descriptions.items()}
    answers: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        text = texts.get(status, DESCRIPTIONS[status])
        answers[status] = {"description": text, _MARK: text}
    return answers


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """Each APIRoute with its effective path (FastAPI >= 0.16x includes routers lazily and
    gives each route's effective view as a RouteContext; older ones copy the routes)."""
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    if iterate is None:
        yield from (route for route in app.routes if isinstance(route, APIRoute))
        return
    for context in iterate(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def binary(*media_types: str) -> dict[str, Any]:
    """The content of a success answer in one of `media_types` (a file, a PDF)."""
    return {t: {"schema": {"type": "string", "format": "binary"}} for t in media_types}


def text(*media_types: str) -> dict[str, Any]:
    """The content of a success answer of text in one of `media_types` (a page)."""
    return {t: {"schema": {"type": "string"}} for t in media_types}


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route answers on `path` (Starlette's 405 names only the first
    route matching the path, when a path has one route per method)."""
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(iterate(app.routes)) if iterate else app.routes
    methods: set[str] = set()
    for route in routes:
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _dependants(child)


def _calls(route: Any) -> set[Callable[..., Any]]:
    return {d.call for d in _dependants(route.dependant) if d.call is not None}


def _problem_content(status: int) -> dict[str, Any]:
    schema = "ValidationProblem" if status == 422 else "Problem"
    return {PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _header(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string", **schema}}


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes the write happen once: a repeat with the same key and the same request gets the "
        "first answer (`Idempotent-Replayed: true`); the same key with another request is a 422 "
        "(`idempotency-key-reused`). Keys are per API key, per person for a person's token, or "
        "per service (client id) for a service's own token, and kept IDEMPOTENCY_KEY_HOURS."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY,
        "pattern": KEY_PATTERN_TEXT,
        "description": f"1 to {MAX_KEY} printable ASCII characters, no space at either end",
    },
}


def _components() -> dict[str, Any]:
    slugs = sorted(PROBLEMS)
    return {
        "FieldError": {
            "type": "object",
            "required": ["field", "message"],
            "additionalProperties": False,
            "properties": {
                "field": {
                    "type": "string",
                    "description": "where the value was: `body.<path>`, `query.<name>`, "
                    "`path.<name>` or `header.<name>`; `body` for a rule on the whole body",
                },
                "message": {"type": "string"},
            },
        },
        "Problem": {
            "type": "object",
            "description": "An error (RFC 9457). Other members may name what it is about.",
            "required": ["type", "title", "status", "detail"],
            "additionalProperties": True,
            "properties": {
                "type": {
                    "type": "string",
                    "enum": [f"{TYPE_PREFIX}{slug}" for slug in slugs],
                    "description": "one URI per kind of problem (see the README)",
                },
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string"},
                "state": {"type": "string", "description": "on a 409: the refusing state"},
                "errors": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/FieldError"},
                },
            },
        },
        "ValidationProblem": {
            "allOf": [
                {"$ref": "#/components/schemas/Problem"},
                {
                    "type": "object",
                    "required": ["errors"],
                    "properties": {"errors": {"minItems": 1}},
                },
            ]
        },
    }


def _route_problems(route: Any, method: str, schema_op: dict[str, Any]) -> dict[int, str]:
    """The error statuses this route can answer, with their descriptions."""
    from services.api import deps

    calls = _calls(route)
    found: dict[int, str] = {422: DESCRIPTIONS[422]}
    if deps.current_agent in calls:
        # On-Behalf-Of, or a token, may name a person unknown or inactive: a 403
        found[401] = DESCRIPTIONS[401]
        found[403] = DESCRIPTIONS[403]
    if route.dependant.path_params and route.path.startswith("/api/"):
        found[404] = DESCRIPTIONS[404]
    if route.body_field is not None:
        found[413] = DESCRIPTIONS[413]
        found[415] = DESCRIPTIONS[415]
        found[400] = DESCRIPTIONS[400]
    if deps.get_session in calls:
        found[503] = DESCRIPTIONS[503]
    if method in WRITES and idempotency.declared(calls):
        # Any keyed write: a repeat whose first answer was lost or not kept (a secret).
        found[409] = WRITE_CONFLICTS
    for status, response in schema_op.get("responses", {}).items():
        if status.isdigit() and int(status) >= 400 and _MARK in response:
            found[int(status)] = response[_MARK]

    return found


def complete(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """Complete the generated document (see the module's docstring)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components.update(_components())
    for route in _api_routes(app):
        if not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            _complete_operation(route, method, operation)
    _texts_without_nul(schema)
    return schema


def _complete_operation(route: Any, method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    wanted = _route_problems(route, method, operation)
    # Error answers a route declares as pages (the candidate pages) stay as declared.
    pages = {
        int(status)
        for status, answer in responses.items()
        if status.isdigit() and "text/html" in answer.get("content", {})
    }
    for status in [s for s in responses if s.isdigit() and int(s) >= 400]:
        if int(status) not in wanted and int(status) not in pages:
            del responses[status]
    for status, description in wanted.items():
        if status in pages:
            continue
        answer: dict[str, Any] = {"description": description, "content": _problem_content(status)}
        if status == 401:
            answer["headers"] = {"WWW-Authenticate": _header("`Bearer`")}
        if status == 503:
            answer["headers"] = {"Retry-After": _header("seconds", pattern="^[0-9]+$")}
        responses[str(status)] = answer
    for status, answer in responses.items():
        content = answer.get("content", {})
        if (
            status.startswith("2")
            and len(content) > 1
            and content.get("application/json") == {"schema": {}}
        ):
            del content["application/json"]  # FastAPI's default, for a route answering otherwise
    if method in WRITES and idempotency.declared(_calls(route)):
        parameters = [  # a route reading the header itself declares it too: said once, here
            p
            for p in operation.get("parameters", [])
            if not (p.get("in") == "header" and p.get("name", "").lower() == "idempotency-key")
        ]
        operation["parameters"] = [*parameters, IDEMPOTENCY_KEY]
        for status, answer in responses.items():
            if status.startswith("2"):
                answer.setdefault("headers", {})["Idempotent-Replayed"] = _header(
                    "`true` on the stored answer to a repeated Idempotency-Key", enum=["true"]
                )
    operation["responses"] = dict(sorted(responses.items()))


def _any_case(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" for c in word)


# email-validator refuses addresses at special-use domains (no mail can reach them).
SPECIAL_USE_DOMAINS = (
    "(^|[@.])("
    + "|".join(_any_case(name) for name in email_validator.SPECIAL_USE_DOMAIN_NAMES)
    + ")\\.?$"
)


def _no_nul(schema: Any, components: dict[str, Any], seen: set[str]) -> None:
    if isinstance(schema, list):
        for item in schema:
            _no_nul(item, components, seen)
        return
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            _no_nul(components.get(name), components, seen)
        return
    if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(schema):
        schema["pattern"] = NOT_BLANK if schema.get("minLength", 0) >= 1 else NO_NUL
    if schema.get("format") == "email" and "not" not in schema:
        schema["not"] = {"pattern": SPECIAL_USE_DOMAINS}
        schema.setdefault("description", "not at a special-use domain (.test, .invalid...)")
    if schema.get("type") == "object" and schema.get("additionalProperties", None) is True:
        schema.setdefault("propertyNames", {"pattern": NO_NUL})
    for key, value in schema.items():
        if key in ("properties", "$defs"):
            for child in value.values():
                _no_nul(child, components, seen)
        elif key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties", "not"):
            _no_nul(value, components, seen)


def _texts_without_nul(schema: dict[str, Any]) -> None:
    components = schema.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    _no_nul(parameter.get("schema"), components, seen)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _no_nul(media.get("schema"), components, seen)


def install(app: FastAPI) -> None:
    """Serve the completed document at `app.openapi_url`."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(app, generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
