"""`Idempotency-Key` on every write of the HR API: a repeat gets the first answer.

Every write route declares it: `dependencies=[Idempotent]` (tests/api/test_idempotency_keys.py
fails for a write route under /api/v1 that does not). How it holds when a client retries at the
worst moment:
- the middleware reads a write that carries the header and fingerprints it (method, path,
  query, body), whatever its route: the route decides what is done with it;
- the route's `Idempotent` dependency checks the key and, once the caller is known (their API
  key, or the person a token signs in), reserves it by an INSERT in the write's own
  transaction: the reservation commits with the write or not at all. A second request with
  the same key waits on that row until the first one ends (PostgreSQL's unique index;
  SQLite's single writer), then finds it and is answered from it instead of writing again;
- right after the commit, the middleware records the answer on the reservation, then sends it.
  A repeat that arrives in between waits for it on the event loop (a short async sleep between
  lookups, each run off the loop), holding neither a pool thread nor a connection meanwhile.
Only writes that committed are remembered: a refused request (4xx) changed nothing, so sending
it again does it again. The same key with another request is refused (422). If the process
stopped between the commit and recording the answer, a repeat gets a 409 that says the write
was done, rather than doing it twice.

An answer that carries a secret (the key made by `POST /api-keys`) is never stored: its route
is marked `not_replayable`, and a repeat of its key gets a 409 (`idempotent-answer-not-kept`)
rather than the secret a second time. The key still makes the write happen once.
"""

import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.deps import CurrentAgent, SessionDep
from services.api.errors import DomainError, field_error, invalid, problem
from shared.db import get_sessionmaker
from shared.models import IdempotentRequest

log = logging.getLogger(__name__)

HEADER = b"idempotency-key"  # as ASGI gives header names: lower case bytes
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY = 200
KEY_FIELD = "header.Idempotency-Key"
# Printable ASCII, no space at either end (the OpenAPI states the same pattern).
KEY_PATTERN_TEXT = f"^[!-~](?:[ -~]{{0,{MAX_KEY - 2}}}[!-~])?$"
KEY_PATTERN = re.compile(KEY_PATTERN_TEXT)
# How long a repeat waits for the first request's answer to be recorded after its commit.
ANSWER_WAIT_SECONDS = 10
# Answer headers that belong to one transmission, not to the answer.
_NOT_REPLAYED = frozenset({b"content-length", b"date", b"server"})
_NOT_REPLAYABLE = "_recrue_not_replayable"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def not_replayable(endpoint: Endpoint) -> Endpoint:
    """Mark a route whose answer holds a secret: it is never stored for a repeat."""
    setattr(endpoint, _NOT_REPLAYABLE, True)
    return endpoint


def _replayable(scope: Scope) -> bool:
    """False for a route marked `not_replayable` (the router has put it in the scope)."""
    endpoint = getattr(scope.get("route"), "endpoint", None)
    return not getattr(endpoint, _NOT_REPLAYABLE, False)


@dataclass(frozen=True)
class Caller:
    """Whose keys: an API key's (acting on behalf of a person or not), a person's signed in
    with a token, whatever the front-end (a person's two front-ends sending the same key are
    that person repeating themselves), or a service's signed in with its own token (its client
    id: a fresh token of the same client is the same caller)."""

    api_key_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    service: str | None = None

    def owns(self) -> ColumnElement[bool]:
        """The condition on idempotent_requests for this caller's rows."""
        if self.api_key_id is not None:
            return IdempotentRequest.api_key_id == self.api_key_id
        if self.person_id is not None:
            return IdempotentRequest.person_id == self.person_id
        return IdempotentRequest.service == self.service


@dataclass
class Keyed:
    """A keyed write in flight: its key and fingerprint; the caller once reserved."""

    key: str
    fingerprint: str
    caller: Caller | None = None


class Replay(Exception):
    """The key was used before by this caller: answer from the stored row."""

    def __init__(self, keyed: Keyed, caller: Caller) -> None:
        super().__init__(keyed.key)
        self.keyed, self.caller = keyed, caller


class InvalidKey(DomainError):
    """An Idempotency-Key that is not one: a 422 naming the header."""

    status, slug = 422, "validation-error"

    def response(self) -> JSONResponse:
        return invalid([field_error(KEY_FIELD, self.detail)])


def idempotent(request: Request, session: SessionDep, agent: CurrentAgent) -> None:
    """The dependency of every write of the HR API: the request's Idempotency-Key, if it has
    one, is checked and reserved in the write's transaction, before the write itself."""
    keyed: Keyed | None = getattr(request.state, "idempotency", None)
    if keyed is None:
        return
    if not KEY_PATTERN.fullmatch(keyed.key):
        raise InvalidKey(
            f"must be 1 to {MAX_KEY} printable ASCII characters, no space at either end"
        )
    if agent.key_id is not None:
        reserve(session, keyed, Caller(api_key_id=agent.key_id))
    elif agent.person_id is not None:
        reserve(session, keyed, Caller(person_id=agent.person_id))
    else:  # a service's own token: its client id, whichever of its tokens it sends
        reserve(session, keyed, Caller(service=agent.service))


# What a write route declares: `@router.post(..., dependencies=[Idempotent])`.
Idempotent = Depends(idempotent)


def reserve(session: Session, keyed: Keyed, caller: Caller) -> None:
    """Reserve the caller's key in the session's transaction (Replay if the key is taken)."""
    try:
        session.execute(
            insert(IdempotentRequest).values(
                id=uuid.uuid4(),
                api_key_id=caller.api_key_id,
                person_id=caller.person_id,
                service=caller.service,
                key=keyed.key,
                fingerprint=keyed.fingerprint,
            )
        )
    except IntegrityError:
        raise Replay(keyed, caller) from None
    keyed.caller = caller


def _reservation(exc: Replay) -> IdempotentRequest:
    with get_sessionmaker()() as session:
        return session.scalars(
            select(IdempotentRequest).where(
                exc.caller.owns(), IdempotentRequest.key == exc.keyed.key
            )
        ).one()


def _answer(row: IdempotentRequest, exc: Replay, replayable: bool) -> Response | None:
    """The answer to a repeat from its key's row; None while the first one's is not recorded."""
    if row.fingerprint != exc.keyed.fingerprint:
        return invalid(
            [field_error(KEY_FIELD, "sent before with another request: use a new key")],
            slug="idempotency-key-reused",
        )
    if row.status_code is not None and not replayable:
        return problem(
            "idempotent-answer-not-kept",
            "the first request with this Idempotency-Key was carried out; its answer held a "
            "secret, which is shown once and never kept: list the resources to find it",
        )
    if row.status_code is not None and row.body is not None:
        return _stored(row.status_code, row.headers or [], row.body)
    return None


async def replay(exc: Replay, replayable: bool = True) -> Response:
    """The first answer to this key, or why there is none to give. A repeat that arrives while
    the first request is between its commit and the recording of its answer waits for it:
    on the event loop, each lookup a short query off the loop."""
    deadline = time.monotonic() + ANSWER_WAIT_SECONDS
    while True:
        row = await anyio.to_thread.run_sync(_reservation, exc)
        answer = _answer(row, exc, replayable)
        if answer is not None:
            return answer
        if time.monotonic() > deadline:
            return problem(
                "idempotent-answer-lost",
                "the first request with this Idempotency-Key was carried out, but its answer "
                "was not recorded: read the resource to see the result",
            )
        await anyio.sleep(0.05)


def _stored(status: int, headers: list[list[str]], body: str) -> Response:
    content = body.encode()
    response = Response(content=content, status_code=status)
    response.raw_headers = [
        *((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers),
        (b"content-length", str(len(content)).encode()),
        (b"idempotent-replayed", b"true"),
    ]
    return response


def _record(
    keyed: Keyed, caller: Caller, status: int, headers: list[list[str]], body: bytes
) -> None:
    with get_sessionmaker().begin() as session:
        session.execute(
            update(IdempotentRequest)
            .where(caller.owns(), IdempotentRequest.key == keyed.key)
            .values(status_code=status, headers=headers, body=body.decode())  # JSON: UTF-8
        )


class IdempotentWrites:
    """Fingerprint the writes that carry an Idempotency-Key, and record the answers of those
    whose route reserved the key (its `Idempotent` dependency), once committed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        body = await _body(receive)
        keyed = Keyed(key, _fingerprint(scope, body))
        scope.setdefault("state", {})["idempotency"] = keyed
        answer: list[Message] = []

        async def keep(message: Message) -> None:
            if keyed.caller is None:  # no route reserved the key: nothing to record
                await send(message)
            else:
                answer.append(message)

        await self.app(scope, _body_then(body, receive), keep)
        start = next((m for m in answer if m["type"] == "http.response.start"), None)
        caller = keyed.caller
        if start is not None and caller is not None and start["status"] < 400:
            content = b"".join(m.get("body", b"") for m in answer if m["type"].endswith("body"))
            headers = [
                [name.decode("latin-1"), value.decode("latin-1")]
                for name, value in start.get("headers", [])
                if name.lower() not in _NOT_REPLAYED
            ]
            if not _replayable(scope):  # a secret: remember that it was done, not the answer
                content, headers = b"", []
            try:
                await anyio.to_thread.run_sync(
                    _record, keyed, caller, start["status"], headers, content
                )
            except Exception:  # the write committed: its answer goes out all the same
                log.warning("idempotency: the answer to key %r was not recorded", keyed.key)
        for message in answer:
            await send(message)


def _key(scope: Scope) -> str | None:
    """The Idempotency-Key of a write (None: not one, or no key)."""
    if scope["type"] != "http" or scope["method"] not in WRITES:
        return None
    for name, value in scope["headers"]:
        if name == HEADER:
            return bytes(value).decode("latin-1")
    return None


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _body_then(body: bytes, receive: Receive) -> Receive:
    """The request's body, already read, then what the server sends next (a disconnect)."""
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again


def _fingerprint(scope: Scope, body: bytes) -> str:
    head = json.dumps([scope["method"], scope["path"], scope.get("query_string", b"").decode()])
    return hashlib.sha256(head.encode() + b"\n" + body).hexdigest()


def declared(calls: set[Callable[..., Any]]) -> bool:
    """Whether a route whose dependencies call `calls` declares `Idempotent`."""
    return idempotent in calls


async def replay_handler(request: Request, exc: Exception) -> Response:
    """The exception handler for Replay."""
    assert isinstance(exc, Replay)
    return await replay(exc, _replayable(request.scope))
