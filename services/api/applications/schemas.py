import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from services.api.candidates.schemas import CandidateCreate, CandidateRef
from services.api.schemas import (
    MAX_DEPTH,
    AwareUTC,
    Input,
    Omittable,
    Resource,
    UTCDateTime,
    case,
    rules,
)

ApplicationKind = Literal["specific", "spontaneous"]
ApplicationStatusName = Literal[
    "submitted", "changes_requested", "resubmitted", "validated", "unavailable", "rejected"
]


# A profile is free-form JSON (what the front-end shows of a CV); its JSON text is bounded.
MAX_PROFILE_CHARS = 65_536
PROFILE = (
    "Free-form JSON: what the front-end shows of a CV. At any depth, no key or text holds a NUL "
    f"character; it nests at most {MAX_DEPTH} levels and its JSON text is at most "
    f"{MAX_PROFILE_CHARS:,} characters (a 422 otherwise)."
)


def _bounded_profile(profile: dict[str, Any] | None) -> dict[str, Any] | None:
    if profile is not None:
        size = len(json.dumps(profile, ensure_ascii=False, separators=(",", ":"), default=str))
        if size > MAX_PROFILE_CHARS:
            raise ValueError(f"profile is limited to {MAX_PROFILE_CHARS} characters of JSON")
    return profile


class ApplicationCreate(Input):
    model_config = rules(
        allOf=[
            {
                "oneOf": [
                    case(("job_id",), kind={"const": "specific"}),
                    case(absent=("job_id",), kind={"const": "spontaneous"}),
                ]
            },
            {
                "oneOf": [
                    case(("candidate_id",), ("candidate",)),
                    case(("candidate",), ("candidate_id",)),
                ]
            },
        ]
    )

    kind: ApplicationKind
    job_id: uuid.UUID | None = None
    candidate_id: uuid.UUID | None = None
    candidate: CandidateCreate | None = None
    cover_letter: str | None = Field(default=None, max_length=20_000)
    profile: dict[str, Any] = Field(default_factory=dict, description=PROFILE)

    _profile = field_validator("profile")(_bounded_profile)

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
    unavailable_reason: str | None
    dossier_id: uuid.UUID | None
    cv_file_id: uuid.UUID | None
    proposed_by_application_id: uuid.UUID | None


class ApplicationUpdate(Input):
    cover_letter: str | None = Field(default=None, max_length=20_000)
    profile: Omittable[dict[str, Any]] = Field(default=None, description=PROFILE)

    _profile = field_validator("profile")(_bounded_profile)


class ChangesRequest(Input):
    message: str = Field(min_length=1, max_length=5000)


class JobProposal(Input):
    job_id: uuid.UUID
    message: str | None = Field(default=None, max_length=5000)


class Unavailability(Input):
    until: AwareUTC | None = None
    reason: str | None = Field(default=None, max_length=2000)

    @field_validator("until")
    @classmethod
    def _in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= datetime.now(UTC):
            raise ValueError("until must be in the future")
        return value
