import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from services.api.candidates.schemas import CandidateRef
from services.api.schemas import Input, Points, UTCDateTime


class TrialScore(BaseModel):
    trial_id: uuid.UUID
    title: str
    score: Points | None
    max: Points


class ShortlistRow(BaseModel):
    rank: int
    dossier_id: uuid.UUID
    candidate: CandidateRef
    applied_at: UTCDateTime
    global_score: Points | None
    scores: list[TrialScore]
    status: str = Field(description="the dossier's state now")
    decision: Literal["retained", "reserve", "not_retained"] | None = Field(
        description="the board's decision on this dossier; null before the deliberation"
    )
    reserve_rank: int | None = Field(description="its place in the reserve, if put there")


class ShortlistOut(BaseModel):
    items: list[ShortlistRow]


class Deliberation(Input):
    decided_on: date
    reference: str = Field(min_length=1, max_length=100)
    retained_dossier_id: uuid.UUID
    reserve: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    notify_not_retained: bool = False

    @model_validator(mode="after")
    def _distinct(self) -> "Deliberation":
        everyone = [self.retained_dossier_id, *self.reserve]
        if len(set(everyone)) != len(everyone):
            raise ValueError("a dossier appears twice in the decision")
        return self


class DeliberationOut(BaseModel):
    job_id: uuid.UUID
    decided_on: date
    reference: str
    retained_dossier_id: uuid.UUID
    reserve: list[uuid.UUID]
    not_retained: list[uuid.UUID]


class OfferCall(Input):
    outcome: Literal["reached", "no_answer"]
    note: str | None = Field(default=None, max_length=5000)


class OfferDecline(Input):
    reason: str | None = Field(default=None, max_length=5000)


class Hire(Input):
    started_on: date


class Departure(Input):
    left_on: date
    reason: str | None = Field(default=None, max_length=5000)
