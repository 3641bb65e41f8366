import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.api.candidates.schemas import CandidateRef
from services.api.schemas import Input, Points, Resource, UTCDateTime
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
    global_score: Points | None
    global_passed: bool | None
    global_overridden: bool
    reserve_rank: int | None
    offer_expires_at: UTCDateTime | None
    started_on: date | None
    left_on: date | None
    left_reason: str | None
    legal_hold_reason: str | None = Field(description="why sweeps and erasure may not touch it")
    legal_hold_since: UTCDateTime | None
    personnel_file_since: UTCDateTime | None = Field(
        description="the recruit's dossier, kept for the personnel file past its retention"
    )
    participations: list[ParticipationOut]


class HistoryEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: UTCDateTime
    actor: str = Field(description="who acted, as text: `role:email`, `role:key name`, ...")
    person_id: uuid.UUID | None = Field(description="the person who acted, if a person did")
    person_name: str | None = Field(description="their display name then")
    service: str | None = Field(
        description="the service that carried the request: an API key's name or a token's "
        "client id (null on entries written before people existed, or by the workers)"
    )
    action: str
    application_id: uuid.UUID | None
    dossier_id: uuid.UUID | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class HistoryOut(BaseModel):
    items: list[HistoryEntryOut]


class Rejection(Input):
    reason: str = Field(min_length=1, max_length=5000)
    notify: bool = False


class Admission(Input):
    note: str | None = Field(default=None, max_length=5000, description="for HR only")
    notify: bool = Field(default=False, description="email the candidate")


class Withdrawal(Input):
    reason: str | None = Field(default=None, max_length=5000)


class JobCount(BaseModel):
    job: JobRef
    total: int
    by_status: dict[str, int]


class DossierSummary(BaseModel):
    items: list[JobCount]
