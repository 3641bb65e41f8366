import uuid

from pydantic import BaseModel, Field, model_validator

from services.api.schemas import NOT_BLANK, Input, Points, case, rules, two_decimals


class ResultInput(Input):
    model_config = rules(
        oneOf=[
            case(("score",), present={"const": True}),
            case(absent=("score",), present={"const": False}),
        ]
    )

    present: bool
    score: two_decimals(ge=0) | None = Field(  # type: ignore[valid-type]
        default=None, description="at most the trial's max_score"
    )
    comment: str | None = Field(default=None, max_length=5000)
    passed: bool | None = Field(
        default=None, description="default: score >= the trial's pass score; absent: failed"
    )
    communicate: bool = False
    communicate_score: bool = False

    @model_validator(mode="after")
    def _coherent(self) -> "ResultInput":
        if self.present and self.score is None:
            raise ValueError("a present candidate needs a score")
        if not self.present and self.score is not None:
            raise ValueError("an absent candidate has no score")
        return self


class GlobalScoreInput(Input):
    # An override needs a reason (a text with something other than spaces).
    model_config = rules(
        anyOf=[
            case(absent=("score",)),
            case(("score", "reason"), reason={"type": "string", "pattern": NOT_BLANK}),
        ]
    )

    score: two_decimals(ge=0, le=100) | None = None  # type: ignore[valid-type]
    reason: str | None = Field(default=None, max_length=5000)

    @model_validator(mode="after")
    def _override_needs_reason(self) -> "GlobalScoreInput":
        if self.score is not None and not self.reason:
            raise ValueError("overriding the global score needs a reason")
        return self


class TrialContribution(BaseModel):
    trial_id: uuid.UUID
    title: str
    score: Points | None
    max: Points
    weight: Points
    contribution: Points
    eliminatory: bool
    passed: bool | None


class GlobalScoreOut(BaseModel):
    dossier_id: uuid.UUID
    status: str
    global_score: Points
    passed: bool
    breakdown: list[TrialContribution]
    overridden: bool
    reason: str | None
