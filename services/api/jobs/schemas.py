from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from services.api.schemas import AwareUTC, Input, Omittable, Resource, UTCDateTime

JobStatus = Literal["open", "closed"]


class JobCreate(Input):
    title: str = Field(min_length=1, max_length=300)
    reference: str = Field(min_length=1, max_length=100)
    department: str | None = Field(default=None, max_length=200)
    year: int = Field(ge=2000, le=2100)
    campaign: str | None = Field(default=None, max_length=100)
    opens_at: AwareUTC | None = None
    closes_at: AwareUTC | None = None
    status: JobStatus = "open"

    @model_validator(mode="after")
    def _closes_after_opening(self) -> "JobCreate":
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        return self


class JobUpdate(Input):
    title: Omittable[str] = Field(default=None, min_length=1, max_length=300)
    department: str | None = Field(default=None, max_length=200)
    campaign: str | None = Field(default=None, max_length=100)
    opens_at: AwareUTC | None = None
    closes_at: AwareUTC | None = None
    status: Omittable[JobStatus] = None


class JobOut(Resource):
    title: str
    reference: str
    department: str | None
    year: int
    campaign: str | None
    opens_at: UTCDateTime | None
    closes_at: UTCDateTime | None
    status: str
    closed_at: UTCDateTime | None = Field(
        description="when it was closed: retention runs from then"
    )
    deliberation_decided_on: date | None
    deliberation_reference: str | None
    reserve_exhausted: bool = Field(description="true once nobody is left in the reserve")
