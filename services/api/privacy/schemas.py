from typing import Literal

from pydantic import Field

from services.api.schemas import Input

# The grounds of GDPR Art. 17(1) (a) to (e): what the history records, never a free text that
# could name the person.
ErasureGround = Literal[
    "no_longer_needed",
    "consent_withdrawn",
    "objection",
    "unlawful_processing",
    "legal_obligation",
]


class Erasure(Input):
    reason: ErasureGround = Field(description="the ground of the erasure (GDPR Art. 17(1))")


class LegalHold(Input):
    reason: str = Field(
        min_length=1, max_length=2000, description="why the dossier must be kept: a dispute..."
    )
