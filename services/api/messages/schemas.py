import uuid

from services.api.schemas import Resource, UTCDateTime


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
