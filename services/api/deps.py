"""Dependencies: the unit of work, the outbox publisher and the calling agent."""

from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated

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
from shared.outbox import Publish, celery_publisher, unit_of_work
from shared.settings import get_settings


@lru_cache
def _publisher() -> Publish:
    return celery_publisher(make_celery("recrue-api"))


async def get_publisher() -> Publish:
    """The API's outbox publisher (a Celery producer on the configured broker). Async, so that
    FastAPI hands this cached value over without a trip through its thread pool."""
    return _publisher()


def get_session(publish: Annotated[Publish, Depends(get_publisher)]) -> Iterator[Session]:
    """One transaction per request: committed on success, then its events published."""
    with unit_of_work(publish) as session:
        yield session


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

    def check(agent: CurrentAgent) -> Agent:
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
