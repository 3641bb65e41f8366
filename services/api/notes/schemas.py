import uuid

from pydantic import Field

from services.api.schemas import Input, Resource


class NoteCreate(Input):
    text: str = Field(min_length=1, max_length=10_000)


class NoteOut(Resource):
    application_id: uuid.UUID | None
    dossier_id: uuid.UUID | None
    author: str
    person_id: uuid.UUID | None = Field(description="the person who wrote it")
    person_name: str | None
    service: str | None = Field(description="the key's name or the token's client id")
    text: str
