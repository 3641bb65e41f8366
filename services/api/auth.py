"""Who calls and what they may do: the agent (a person, a service, or a service acting for a
person), the roles, and the policy every module asks instead of comparing role names.

A request is a person's when it carries a person's access token (services/api/oidc.py), a key
that belongs to a person, or a key that acts for people with `On-Behalf-Of: <email>`; it is
then recorded under that person's id and name, and the key's name (or the token's client id)
is recorded separately as the service that carried it."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from shared.acting import Acting


class Role(StrEnum):
    ADMIN = "admin"
    HR = "hr"
    EXAMINER = "examiner"
    VIEWER = "viewer"


# From the most to the least: the role an agent's actor text names.
ROLE_ORDER = (Role.ADMIN, Role.HR, Role.EXAMINER, Role.VIEWER)
HR_ROLES = frozenset({Role.ADMIN, Role.HR})
READER_ROLES = frozenset({Role.ADMIN, Role.HR, Role.VIEWER})
# The roles a key may lend to a person it acts for: never more than its own.
LENDS = {
    Role.ADMIN: frozenset(Role),
    Role.HR: frozenset({Role.HR, Role.EXAMINER, Role.VIEWER}),
    Role.EXAMINER: frozenset({Role.EXAMINER}),
    Role.VIEWER: frozenset({Role.VIEWER}),
}


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    """The Recrue roles among `names` (others are ignored)."""
    known = {role.value for role in Role}
    return frozenset(Role(name) for name in names if name in known)


def lent(key_role: str, person_roles: Iterable[str]) -> frozenset[Role]:
    """A person's roles as a key of `key_role` may carry them."""
    return parse_roles(person_roles) & LENDS[Role(key_role)]


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    name: str
    email: str


@dataclass(frozen=True)
class Agent:
    """Who calls: the roles they act with, the person (if a person acts) and the service that
    carried the request (an API key's name, or an access token's client id)."""

    roles: frozenset[Role]
    service: str
    key_id: uuid.UUID | None = None
    person: Person | None = None

    @property
    def role(self) -> Role | None:
        """The highest of the roles (what the actor text names)."""
        return next((role for role in ROLE_ORDER if role in self.roles), None)

    @property
    def person_id(self) -> uuid.UUID | None:
        return None if self.person is None else self.person.id

    @property
    def actor(self) -> str:
        """The history's actor text: `role:person email` or `role:key name`."""
        who = self.person.email if self.person is not None else self.service
        return f"{self.role or 'none'}:{who}"

    @property
    def acting(self) -> Acting:
        person = self.person
        return Acting(
            person_id=None if person is None else person.id,
            person_name=None if person is None else person.name,
            service=self.service,
        )


def has_role(agent: Agent, allowed: Iterable[Role]) -> bool:
    return not agent.roles.isdisjoint(allowed)


def reads_hr_text(agent: Agent) -> bool:
    """Notes, comments, call notes and reasons are for HR and admins only."""
    return has_role(agent, HR_ROLES)


def only_own_trials(agent: Agent) -> bool:
    """An examiner who is neither HR nor a viewer sees only the trials they examine (and the
    dossiers invited to them)."""
    return Role.EXAMINER in agent.roles and not has_role(agent, READER_ROLES)


def examines(agent: Agent, examiner_ids: Iterable[uuid.UUID]) -> bool:
    """Whether the agent is a person among a trial's examiners."""
    return (
        Role.EXAMINER in agent.roles
        and agent.person is not None
        and agent.person.id in set(examiner_ids)
    )


def records_results(agent: Agent, examiner_ids: Iterable[uuid.UUID]) -> bool:
    """HR, or an examiner assigned to the trial, records its results."""
    return has_role(agent, HR_ROLES) or examines(agent, examiner_ids)
