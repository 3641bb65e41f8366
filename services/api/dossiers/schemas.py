import uuid
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from services.api.candidates.schemas import CandidateRef
from services.api.schemas import Resource, UTCDateTime
from services.api.trials.schemas import ParticipationOut


class JobRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    reference: str
    year: int
    campaign: str | None


class DossierOut(Resource):
    status: str
    application_id: uuid.UUID
    job: JobRef
    candidate: CandidateRef
    applied_at: UTCDateTime
    summary: str | None
    global_score: Decimal | None
    participations: list[ParticipationOut]


class HistoryEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: UTCDateTime
    actor: str
    action: str
    application_id: uuid.UUID | None
    dossier_id: uuid.UUID | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class HistoryOut(BaseModel):
    items: list[HistoryEntryOut]
