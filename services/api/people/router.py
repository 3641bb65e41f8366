import uuid

from fastapi import APIRouter, Response

from services.api.auth import Agent
from services.api.deps import Admin, CurrentAgent, SessionDep
from services.api.errors import Forbidden
from services.api.idempotency import Idempotent, not_replayable
from services.api.openapi import problems, text
from services.api.people import calendar_feed, service
from services.api.people.schemas import CalendarFeed, Me, PersonCreate, PersonOut, PersonUpdate
from shared.models import Person

router = APIRouter(tags=["people"])
# The calendar feeds themselves: their token is their only key (no Authorization header).
feeds = APIRouter(tags=["people"])
DUPLICATE = problems(409, conflict="A person with this email exists (`person_id` names them)")


@router.post(
    "/people",
    status_code=201,
    response_model=PersonOut,
    responses=DUPLICATE,
    dependencies=[Idempotent],
)
def create_person(data: PersonCreate, session: SessionDep, _: Admin) -> object:
    """Add a person (HR agent, examiner, viewer or admin)."""
    return service.create_person(session=session, data=data)


@router.get("/people", response_model=dict[str, list[PersonOut]])
def list_people(session: SessionDep, _: Admin) -> object:
    return {"items": service.list_people(session=session)}


@router.get("/people/{person_id}", response_model=PersonOut)
def get_person(person_id: uuid.UUID, session: SessionDep, _: Admin) -> object:
    return service.get_person(session=session, person_id=person_id)


@router.patch(
    "/people/{person_id}", response_model=PersonOut, responses=DUPLICATE, dependencies=[Idempotent]
)
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


def _own(session: SessionDep, agent: Agent) -> Person:
    if agent.person is None:
        raise Forbidden("a calendar feed is a person's: this request names no person")
    return service.get_person(session=session, person_id=agent.person.id)


@router.post(
    "/me/calendar-feed", status_code=201, response_model=CalendarFeed, dependencies=[Idempotent]
)
@not_replayable  # the answer is the feed's secret URL: never stored for a repeat
def open_calendar_feed(session: SessionDep, agent: CurrentAgent) -> object:
    """A personal calendar feed of the trials the caller examines: an `.ics` URL to subscribe
    to. A new one replaces any earlier one, which stops working."""
    return {"url": calendar_feed.open_feed(session, _own(session, agent))}


@router.delete("/me/calendar-feed", status_code=204, dependencies=[Idempotent])
def close_calendar_feed(session: SessionDep, agent: CurrentAgent) -> Response:
    """Revoke the caller's calendar feed: its URL answers 404 from now on."""
    calendar_feed.close_feed(session, _own(session, agent))
    return Response(status_code=204)


@router.delete("/people/{person_id}/calendar-feed", status_code=204, dependencies=[Idempotent])
def close_persons_calendar_feed(person_id: uuid.UUID, session: SessionDep, _: Admin) -> Response:
    """Revoke a person's calendar feed (a URL that leaked)."""
    calendar_feed.close_feed(session, service.get_person(session=session, person_id=person_id))
    return Response(status_code=204)


@feeds.get(
    "/calendar/{token}.ics",
    response_class=Response,
    responses={
        200: {"description": "The calendar (iCalendar)", "content": text("text/calendar")},
        **problems(404, not_found="No such feed, or it was revoked"),
    },
)
def examiner_calendar(token: str, session: SessionDep) -> Response:
    """An examiner's calendar feed: the trials they examine (a slot trial: its slots)."""
    return Response(
        calendar_feed.feed(session, token),
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, no-store"},
    )
