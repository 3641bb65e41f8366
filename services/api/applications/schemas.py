import uuid
from typing import Any, Literal

from pydantic import Field, model_validator

from services.api.candidates.schemas import CandidateCreate, CandidateRef
from services.api.schemas import Input, Resource, UTCDateTime

ApplicationKind = Literal["specific", "spontaneous"]
ApplicationStatusName = Literal[
    "submitted", "changes_requested", "resubmitted", "validated", "unavailable", "rejected"
]


class ApplicationCreate(Input):
    kind: ApplicationKind
    job_id: uuid.UUID | None = None
    candidate_id: uuid.UUID | None = None
    candidate: CandidateCreate | None = None
    cover_letter: str | None = Field(default=None, max_length=20_000)
    profile: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _coherent(self) -> "ApplicationCreate":
        if self.kind == "specific" and self.job_id is None:
            raise ValueError("a specific application needs a job_id")
        if self.kind == "spontaneous" and self.job_id is not None:
            raise ValueError("a spontaneous application has no job_id")
        if (self.candidate_id is None) == (self.candidate is None):
            raise ValueError("give exactly one of candidate_id and candidate")
        return self


class ApplicationOut(Resource):
    kind: str
    status: str
    job_id: uuid.UUID | None
    candidate: CandidateRef
    cover_letter: str | None
    profile: dict[str, Any]
    unavailable_until: UTCDateTime | None
    dossier_id: uuid.UUID | None
