"""Schema pieces shared by several resources."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Times go out in UTC, whatever offset they came in with.
UTCDateTime = Annotated[datetime, AfterValidator(_to_utc)]
# Times come in with an offset and are kept in UTC from there on, so that nothing stored or
# echoed (booking windows, history entries) keeps the client's offset.
AwareUTC = Annotated[AwareDatetime, AfterValidator(_to_utc)]


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


# Scores, weights and maxima go out with their two decimals, whether just written or read back.
Points = Annotated[Decimal, AfterValidator(_two_places)]


class Resource(BaseModel):
    """What every resource carries."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: UTCDateTime
    updated_at: UTCDateTime


class Input(BaseModel):
    """A request body: unknown fields are refused so that typos are not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
