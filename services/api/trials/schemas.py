import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator, model_validator

from services.api.schemas import (
    AwareUTC,
    Input,
    Omittable,
    Points,
    Resource,
    UTCDateTime,
    case,
    rules,
    two_decimals,
)
from shared.settings import get_settings

TrialKind = Literal["written", "oral", "practical", "interview"]


class Window(Input):
    start: AwareUTC
    end: AwareUTC

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        if self.end <= self.start:
            raise ValueError("a booking window ends after it starts")
        return self


class Booking(Input):
    slot_minutes: int = Field(ge=5, le=8 * 60)
    capacity: int = Field(default=1, ge=1, le=500)
    windows: list[Window] = Field(min_length=1, max_length=200)
    auto_assign: bool = Field(
        default=False, description="at the deadline, give unbooked candidates the first free slots"
    )


def _future(value: datetime | None) -> datetime | None:
    if value is not None and value <= datetime.now(UTC):
        raise ValueError("must be in the future")
    return value


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{value}'") from None
    return value


class TrialCreate(Input):
    kind: TrialKind
    title: str = Field(min_length=1, max_length=300)
    location: str = Field(default="", max_length=500)
    starts_at: AwareUTC | None = Field(
        default=None,
        description="required for a fixed-time trial; a slot trial starts at its first slot",
    )
    duration_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    timezone: str = Field(default_factory=lambda: get_settings().default_timezone, max_length=64)
    info: str = Field(default="", max_length=5000)
    response_deadline: AwareUTC | None = None
    booking: Booking | None = None
    weight: two_decimals(gt=0, le=1000) = Decimal(1)  # type: ignore[valid-type]
    max_score: two_decimals(gt=0, le=100_000) = Decimal(20)  # type: ignore[valid-type]
    pass_score: two_decimals(ge=0) | None = Field(  # type: ignore[valid-type]
        default=None, description="at most max_score"
    )
    eliminatory: bool = False
    examiner_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=50,
        description="the people examining it: active, with the examiner role",
    )
    response_reminder_hours: int = Field(default=48, ge=0, le=24 * 30)
    trial_reminder_hours: int = Field(default=24, ge=0, le=24 * 30)

    _zone = field_validator("timezone")(_known_zone)
    _times = field_validator("starts_at", "response_deadline")(_future)

    @model_validator(mode="after")
    def _coherent(self) -> "TrialCreate":
        if self.booking is not None:
            if self.kind == "written":
                raise ValueError("a written trial has one time: slot booking is for the others")
            first = min(w.start for w in self.booking.windows)
            self.starts_at = self.starts_at or first
            self.duration_minutes = self.duration_minutes or self.booking.slot_minutes
        if self.starts_at is None or self.duration_minutes is None:
            raise ValueError("a trial without booking needs starts_at and duration_minutes")
        if self.response_deadline and self.response_deadline >= self.starts_at:
            raise ValueError("response_deadline must be before starts_at")
        if self.pass_score is not None and self.pass_score > self.max_score:
            raise ValueError("pass_score cannot exceed max_score")
        return self


class TrialUpdate(Input):
    """Fields that change what candidates were sent: each change updates every invitation."""

    title: Omittable[str] = Field(default=None, min_length=1, max_length=300)
    location: Omittable[str] = Field(default=None, max_length=500)
    info: Omittable[str] = Field(default=None, max_length=5000)
    duration_minutes: Omittable[int] = Field(default=None, ge=1, le=24 * 60)
    reason: str | None = Field(default=None, max_length=2000)


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
    booking: dict[str, Any] | None
    weight: Points
    max_score: Points
    pass_score: Points | None
    eliminatory: bool
    status: str
    cancel_reason: str | None
    examiner_ids: list[uuid.UUID] = Field(description="the people examining it")
    response_reminder_hours: int
    trial_reminder_hours: int


class SlotOut(Resource):
    trial_id: uuid.UUID
    starts_at: UTCDateTime
    ends_at: UTCDateTime
    capacity: int
    booked: int


class TrialPostponement(Input):
    starts_at: AwareUTC
    reason: str | None = Field(default=None, max_length=2000)

    _when = field_validator("starts_at")(_future)


class ParticipationPostponement(Input):
    model_config = rules(
        oneOf=[case(given=("starts_at",), absent=("slot_id",)), case(("slot_id",), ("starts_at",))]
    )

    starts_at: AwareUTC | None = None
    slot_id: uuid.UUID | None = None
    reason: str | None = Field(default=None, max_length=2000)

    _when = field_validator("starts_at")(_future)

    @model_validator(mode="after")
    def _one_way(self) -> "ParticipationPostponement":
        if (self.starts_at is None) == (self.slot_id is None):
            raise ValueError("give either starts_at or slot_id")
        return self


class Cancellation(Input):
    reason: str | None = Field(default=None, max_length=2000)


class ExaminerAssignment(Input):
    examiner_ids: list[uuid.UUID] = Field(
        max_length=50, description="the people examining it: active, with the examiner role"
    )


class InvitationRequest(Input):
    model_config = rules(
        oneOf=[
            case(("dossier_ids",), all_eligible={"const": False}),
            {
                **case(absent=("dossier_ids",), all_eligible={"const": True}),
                "required": ["all_eligible"],
            },
        ]
    )

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
    slot_id: uuid.UUID | None
    starts_at: UTCDateTime | None
    response_deadline: UTCDateTime | None
    sequence: int
    answered_at: UTCDateTime | None
    result: dict[str, Any] | None

    @field_validator("result")
    @classmethod
    def _score_two_places(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None or value.get("score") is None:
            return value
        return {**value, "score": Decimal(value["score"]).quantize(Decimal("0.01"))}


class InvitationsOut(BaseModel):
    invited: list[ParticipationOut]
    already_invited: list[uuid.UUID]
