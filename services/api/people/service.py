"""People (HR agents, examiners, viewers), and the agent a request is: a person's, a key's, or
a key's acting for a person."""

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.api.auth import Agent, Role, lent, parse_roles
from services.api.auth import Person as PersonRef
from services.api.errors import Duplicate, Forbidden, NotFound
from services.api.people.schemas import PersonCreate, PersonUpdate
from shared.models import ApiKey, Person, Trial, TrialExaminer


def get_person(*, session: Session, person_id: uuid.UUID) -> Person:
    """The person, or NotFound."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"person {person_id} not found")
    return person


def by_email(session: Session, email: str) -> Person | None:
    return session.scalar(select(Person).where(Person.email == email.strip().lower()))


def _unique_email(session: Session, email: str, person_id: uuid.UUID | None = None) -> None:
    found = by_email(session, email)
    if found is not None and found.id != person_id:
        raise Duplicate(f"a person with email '{email}' already exists", person_id=found.id)


def create_person(*, session: Session, data: PersonCreate) -> Person:
    """Add a person; the email is unique whatever its case."""
    _unique_email(session, data.email)
    person = Person(
        name=data.name,
        email=data.email,
        roles=sorted(set(data.roles)),
        active=data.active,
        language=data.language,
    )
    session.add(person)
    session.flush()
    return person


def update_person(*, session: Session, person_id: uuid.UUID, data: PersonUpdate) -> Person:
    """Change the given fields; an inactive person can no longer act."""
    person = get_person(session=session, person_id=person_id)
    changes = data.model_dump(exclude_unset=True)
    if "email" in changes:
        _unique_email(session, changes["email"], person.id)
    if "roles" in changes:
        changes["roles"] = sorted(set(changes["roles"]))
    for field, value in changes.items():
        setattr(person, field, value)
    session.flush()
    return person


def list_people(*, session: Session) -> Sequence[Person]:
    """Everyone, by name."""
    return session.scalars(select(Person).order_by(func.lower(Person.name), Person.id)).all()


def examined_trials(session: Session, person_id: uuid.UUID) -> list[uuid.UUID]:
    """The trials this person examines, soonest first."""
    query = (
        select(Trial.id)
        .join(TrialExaminer, TrialExaminer.trial_id == Trial.id)
        .where(TrialExaminer.person_id == person_id)
        .order_by(Trial.starts_at, Trial.id)
    )
    return list(session.scalars(query))


def _ref(person: Person) -> PersonRef:
    return PersonRef(id=person.id, name=person.name, email=person.email)


def _able(person: Person | None, who: str) -> Person:
    if person is None:
        raise Forbidden(f"no person with the email of {who}")
    if not person.active:
        raise Forbidden(f"{who} is not active", person_id=person.id)
    return person


def agent_for_key(session: Session, key: ApiKey, on_behalf_of: str | None) -> Agent:
    """The agent of a request made with `key`: its person's if it belongs to one, the person's
    named by On-Behalf-Of if it acts for people (never with more than its own role), else the
    key's own."""
    if key.person_id is not None:
        if on_behalf_of is not None:
            raise Forbidden("this key is a person's own: it does not act on behalf of others")
        person = _able(session.get(Person, key.person_id), "the key's person")
        roles = lent(key.role, person.roles)
        return Agent(roles=roles, service=key.name, key_id=key.id, person=_ref(person))
    if on_behalf_of is None:
        return Agent(roles=frozenset({Role(key.role)}), service=key.name, key_id=key.id)
    if not key.acts_for_people:
        raise Forbidden("this key does not act for people: On-Behalf-Of is refused")
    person = _able(by_email(session, on_behalf_of), "On-Behalf-Of")
    roles = lent(key.role, person.roles)
    return Agent(roles=roles, service=key.name, key_id=key.id, person=_ref(person))


def agent_for_token(
    session: Session,
    *,
    service: str,
    email: str | None,
    name: str | None,
    roles: Iterable[str],
    auto_create: bool,
) -> Agent:
    """The agent of a verified access token: a service (no email claim: a client's own token,
    with the roles the token gives), or a person, who acts with the roles both the token and
    Recrue give them. A person unknown to Recrue is created on their first sign-in when
    OIDC_AUTO_CREATE is on, with the token's roles."""
    granted = parse_roles(roles)
    if email is None:
        return Agent(roles=granted, service=service)
    person = by_email(session, email)
    if person is None and auto_create and granted:
        person = Person(name=name or email, email=email, roles=sorted(granted), active=True)
        session.add(person)
        session.flush()
    person = _able(person, "the token")
    return Agent(roles=granted & parse_roles(person.roles), service=service, person=_ref(person))


def me(session: Session, agent: Agent) -> dict[str, Any]:
    """Who the caller is: the person (or none), the service, the roles, the trials examined."""
    person = None if agent.person is None else session.get(Person, agent.person.id)
    return {
        "kind": "service" if person is None else "person",
        "person": person,
        "service": agent.service,
        "roles": sorted(agent.roles),
        "examines": [] if person is None else examined_trials(session, person.id),
    }
