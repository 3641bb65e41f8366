import uuid

from services.api.schemas import Resource


class StoredFileOut(Resource):
    purpose: str
    application_id: uuid.UUID | None
    dossier_id: uuid.UUID | None
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
