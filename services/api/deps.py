"""Dependencies: the unit of work, the outbox publisher and the calling agent."""

from collections.abc import AsyncIterator, Callable
from functools import lru_cache
from typing import Annotated

import anyio
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from services.api import oidc
from services.api.api_keys.service import find_agent
from services.api.auth import Agent, Role, has_role
from services.api.errors import Forbidden, Unauthorized
from services.api.people.service import agent_for_key, agent_for_token
from shared.acting import act
from shared.celery_app import make_celery
from shared.db import get_sessionmaker
from shared.outbox import Publish, celery_publisher, commit
from shared.settings import get_settings


@lru_cache
def _publisher() -> Publish:
    return celery_publisher(make_celery("recrue-api"))


async def get_session() -> AsyncIterator[Session]:
    """One transaction per request: committed once the route returns, then its events
    published. Async, so that a request enters FastAPI's thread pool as few times as it can
    (FastAPI hands a sync dependency's setup and teardown to it separately from the route):
    the session is made here, on the event loop (it connects at its first statement), and
    only its commit or rollback goes to the thread pool."""
    session = get_sessionmaker()()
    try:
        yield session
        if session.in_transaction() or session.new or session.dirty or session.deleted:
            await _ending(commit, session, _publisher())
    except BaseException:
        if session.in_transaction():
            await _ending(session.rollback)
        raise
    finally:
        session.close()


async def _ending(end: Callable[..., None], *args: object) -> None:
    """Commit or roll back outside the thread pool's limit, as FastAPI ends a sync dependency:
    the session holds a connection by then, and waiting for one of the pool's threads with it
    could stop the process (every thread waiting for a connection, every connection for a
    thread: 500 bookings at once did). Shielded: a client that leaves does not cut it short."""
    with CancelScope(shield=True):
        await anyio.to_thread.run_sync(end, *args, limiter=CapacityLimiter(1))


# scope="function": commit (and publish) once the route returns, before the response is sent,
# so a client never sees an answer for a change that did not commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


# Declares the bearer scheme in the OpenAPI (the Authorize button of /docs); the key or token
# is checked below, so that a missing or malformed one is a 401 problem.
bearer = HTTPBearer(
    auto_error=False,
    description=(
        "An API key (`recrue create-api-key`), or an access token of the OpenID provider set "
        "by OIDC_ISSUER: a value with two dots is read as a token (a JWT), any other as a "
        "key. A key that acts for people may send `On-Behalf-Of: <person's email>`."
    ),
)
ON_BEHALF_OF = "on-behalf-of"


def current_agent(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Agent:
    """The agent whose bearer key or token authorises the request (401 without a valid one;
    403 when On-Behalf-Of names no active person the key may act for)."""
    if credentials is None or not credentials.credentials.strip():
        raise Unauthorized("an API key or a token is required: Authorization: Bearer <value>")
    value = credentials.credentials.strip()
    on_behalf_of = request.headers.get(ON_BEHALF_OF)
    if oidc.is_token(value):
        settings = get_settings()
        if on_behalf_of is not None:
            raise Forbidden("On-Behalf-Of is for keys that act for people, not for tokens")
        claims = oidc.verify(value)
        agent = agent_for_token(
            session,
            service=claims.client_id,
            email=claims.email,
            name=claims.name,
            roles=claims.roles,
            auto_create=settings.oidc_auto_create,
        )
    else:
        found = find_agent(session, value)
        if found is None:
            raise Unauthorized("unknown or revoked API key")
        agent = agent_for_key(session, found, on_behalf_of)
    act(session, agent.acting)
    return agent


CurrentAgent = Annotated[Agent, Depends(current_agent)]


def roles(*allowed: Role):  # type: ignore[no-untyped-def]
    """A dependency that lets only agents with one of `allowed` roles through (403 otherwise)."""

    async def check(agent: CurrentAgent) -> Agent:  # async: no trip through the thread pool
        if not has_role(agent, allowed):
            held = ", ".join(sorted(agent.roles)) or "none"
            raise Forbidden(f"role '{held}' may not do this", required=list(allowed))
        return agent

    return Depends(check)


Admin = Annotated[Agent, roles(Role.ADMIN)]
HR = Annotated[Agent, roles(Role.ADMIN, Role.HR)]
Reader = Annotated[Agent, roles(Role.ADMIN, Role.HR, Role.VIEWER)]
# Examiners pass this role check; which dossiers they may see is checked per object.
DossierReader = Annotated[Agent, roles(Role.ADMIN, Role.HR, Role.VIEWER, Role.EXAMINER)]
