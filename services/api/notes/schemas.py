import uuid

from pydantic import Field

from services.api.schemas import Input, Resource


class NoteCreate(Input):
    text: str = Field(min_length=1, max_length=10_000)


class NoteOut(Resource):
    application_id: uuid.UUID | None
    dossier_id: uuid.UUID | None
    author: str
    text: str
