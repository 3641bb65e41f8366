import uuid

from fastapi import APIRouter

from services.api.deps import Admin, CurrentAgent, SessionDep
from services.api.openapi import problems
from services.api.people import service
from services.api.people.schemas import Me, PersonCreate, PersonOut, PersonUpdate

router = APIRouter(tags=["people"])
DUPLICATE = problems(409, conflict="A person with this email exists (`person_id` names them)")


@router.post("/people", status_code=201, response_model=PersonOut, responses=DUPLICATE)
def create_person(data: PersonCreate, session: SessionDep, _: Admin) -> object:
    """Add a person (HR agent, examiner, viewer or admin)."""
    return service.create_person(session=session, data=data)


@router.get("/people", response_model=dict[str, list[PersonOut]])
def list_people(session: SessionDep, _: Admin) -> object:
    return {"items": service.list_people(session=session)}


@router.get("/people/{person_id}", response_model=PersonOut)
def get_person(person_id: uuid.UUID, session: SessionDep, _: Admin) -> object:
    return service.get_person(session=session, person_id=person_id)


@router.patch("/people/{person_id}", response_model=PersonOut, responses=DUPLICATE)
def update_person(
    person_id: uuid.UUID, data: PersonUpdate, session: SessionDep, _: Admin
) -> object:
    """Change a person; `active: false` stops them acting (their tokens and keys too)."""
    return service.update_person(session=session, person_id=person_id, data=data)


@router.get("/me", response_model=Me)
def me(session: SessionDep, agent: CurrentAgent) -> object:
    """Who the caller is: the person (or none: a service), the roles they act with, the
    service that carried the request, and the trials the person examines."""
    return service.me(session, agent)
