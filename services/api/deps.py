"""Dependencies: the unit of work, the outbox publisher and the calling agent."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from services.api.api_keys.service import find_agent
from services.api.errors import Forbidden, Unauthorized
from shared.celery_app import make_celery
from shared.outbox import Publish, celery_publisher, unit_of_work


@lru_cache
def get_publisher() -> Publish:
    """The API's outbox publisher (a Celery producer on the configured broker)."""
    return celery_publisher(make_celery("recrue-api"))


def get_session(publish: Annotated[Publish, Depends(get_publisher)]) -> Iterator[Session]:
    """One transaction per request: committed on success, then its events published."""
    with unit_of_work(publish) as session:
        yield session


# scope="function": commit (and publish) once the route returns, before the response is sent,
# so a client never sees an answer for a change that did not commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


@dataclass(frozen=True)
class Agent:
    """Who calls: an API key's id, name and role."""

    id: uuid.UUID
    name: str
    role: str

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.name}"


# Declares the bearer scheme in the OpenAPI (the Authorize button of /docs); the key is checked
# below, so that a missing or malformed one is a 401 problem.
bearer = HTTPBearer(auto_error=False, description="An API key: `recrue create-api-key`")


def current_agent(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Agent:
    """The agent whose bearer key authorises the request (401 without a valid key)."""
    if credentials is None or not credentials.credentials.strip():
        raise Unauthorized("an API key is required: Authorization: Bearer <key>")
    found = find_agent(session, credentials.credentials.strip())
    if found is None:
        raise Unauthorized("unknown or revoked API key")
    return Agent(id=found.id, name=found.name, role=found.role)


CurrentAgent = Annotated[Agent, Depends(current_agent)]


ROLE_CHECK = "_recrue_role_check"


def roles(*allowed: str):  # type: ignore[no-untyped-def]
    """A dependency that lets only agents with one of `allowed` roles through (403 otherwise)."""

    def check(agent: CurrentAgent) -> Agent:
        if agent.role not in allowed:
            raise Forbidden(f"role '{agent.role}' may not do this", required=list(allowed))
        return agent

    setattr(check, ROLE_CHECK, True)  # the OpenAPI documents a 403 (services.api.openapi)
    return Depends(check)


Admin = Annotated[Agent, roles("admin")]
HR = Annotated[Agent, roles("admin", "hr")]
Reader = Annotated[Agent, roles("admin", "hr", "viewer")]
# Examiners pass this role check; which dossiers they may see is checked per object.
DossierReader = Annotated[Agent, roles("admin", "hr", "viewer", "examiner")]
