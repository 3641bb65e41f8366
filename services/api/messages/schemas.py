import uuid

from pydantic import BaseModel, Field

from services.api.schemas import Input, Resource, UTCDateTime


class MessageOut(Resource):
    dossier_id: uuid.UUID | None
    application_id: uuid.UUID | None
    kind: str
    language: str
    to_address: str
    status: str
    attempts: int
    last_response: str | None
    idempotency_key: str
    sent_at: UTCDateTime | None


class FreeMessage(Input):
    dossier_ids: list[uuid.UUID] = Field(min_length=1, max_length=5000)
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=20_000)


class MessagesOut(BaseModel):
    items: list[MessageOut]
