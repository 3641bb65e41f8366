import uuid
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from services.api.schemas import Input, Resource, UTCDateTime
from shared.settings import get_settings

TrialKind = Literal["written", "oral", "practical", "interview"]


class TrialCreate(Input):
    kind: TrialKind
    title: str = Field(min_length=1, max_length=300)
    location: str = Field(default="", max_length=500)
    starts_at: AwareDatetime
    duration_minutes: int = Field(ge=1, le=24 * 60)
    timezone: str = Field(default_factory=lambda: get_settings().default_timezone)
    info: str = Field(default="", max_length=5000)
    response_deadline: AwareDatetime | None = None
    booking: dict[str, Any] | None = None
    weight: Decimal = Field(default=Decimal(1), gt=0, le=1000)
    max_score: Decimal = Field(default=Decimal(20), gt=0, le=100_000)
    pass_score: Decimal | None = Field(default=None, ge=0)
    eliminatory: bool = False
    examiner_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}'") from None
        return value

    @model_validator(mode="after")
    def _coherent(self) -> "TrialCreate":
        if self.booking is not None:
            # Slot booking is not built yet: refuse it rather than silently ignoring it.
            raise ValueError("slot booking is not supported yet; give booking: null")
        if self.response_deadline and self.response_deadline >= self.starts_at:
            raise ValueError("response_deadline must be before starts_at")
        if self.pass_score is not None and self.pass_score > self.max_score:
            raise ValueError("pass_score cannot exceed max_score")
        return self


class TrialOut(Resource):
    job_id: uuid.UUID
    kind: str
    title: str
    location: str
    starts_at: UTCDateTime
    duration_minutes: int
    timezone: str
    info: str
    response_deadline: UTCDateTime | None
    booking: None = None
    weight: Decimal
    max_score: Decimal
    pass_score: Decimal | None
    eliminatory: bool
    status: str
    examiner_ids: list[uuid.UUID]


class ExaminerAssignment(Input):
    examiner_ids: list[uuid.UUID] = Field(max_length=50)


class InvitationRequest(Input):
    dossier_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=10_000)
    all_eligible: bool = False

    @model_validator(mode="after")
    def _one_way(self) -> "InvitationRequest":
        if (self.dossier_ids is None) == (not self.all_eligible):
            raise ValueError("give either dossier_ids or all_eligible: true")
        return self


class ParticipationOut(Resource):
    trial_id: uuid.UUID
    dossier_id: uuid.UUID
    status: str
    slot_id: uuid.UUID | None = None
    starts_at: UTCDateTime
    response_deadline: UTCDateTime | None
    sequence: int
    result: None = None


class InvitationsOut(BaseModel):
    invited: list[ParticipationOut]
    already_invited: list[uuid.UUID]
