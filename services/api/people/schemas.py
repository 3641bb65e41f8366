import uuid

from pydantic import BaseModel, EmailStr, Field, StrictBool

from services.api.auth import Role
from services.api.candidates.schemas import Language
from services.api.schemas import Input, Omittable, Resource


class PersonCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr = Field(description="unique, whatever its case")
    roles: list[Role] = Field(min_length=1, max_length=4)
    active: StrictBool = True
    language: Language = Field(default="fr", description="the language of their emails")


class PersonUpdate(Input):
    name: Omittable[str] = Field(default=None, min_length=1, max_length=200)
    email: Omittable[EmailStr] = None
    roles: Omittable[list[Role]] = Field(default=None, min_length=1, max_length=4)
    active: Omittable[StrictBool] = None
    language: Omittable[Language] = None


class PersonOut(Resource):
    name: str
    email: str
    roles: list[Role]
    active: bool
    language: Language
    calendar_feed: bool = Field(description="whether a personal calendar feed is open")


class CalendarFeed(BaseModel):
    url: str = Field(description="shown this once: only its hash is stored; subscribe to it")


class Me(BaseModel):
    kind: str = Field(description="`person`, or `service` when no person acts")
    person: PersonOut | None
    service: str = Field(description="the API key's name or the token's client id")
    roles: list[Role]
    examines: list[uuid.UUID] = Field(description="the trials the person examines")
