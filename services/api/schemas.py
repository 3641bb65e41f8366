"""Schema pieces shared by several resources."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# The largest value of an SQL BIGINT: query parameters compared with integer columns stay within
# what the databases can hold (beyond it: a 422, not a 500).
BIGINT_MAX = 2**63 - 1
YearQuery = Annotated[int | None, Query(ge=1, le=9999)]
CampaignQuery = Annotated[str | None, Query(max_length=100)]

# Times go out in UTC, whatever offset they came in with.
UTCDateTime = Annotated[datetime, AfterValidator(_to_utc)]


class Resource(BaseModel):
    """What every resource carries."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: UTCDateTime
    updated_at: UTCDateTime


class Input(BaseModel):
    """A request body: unknown fields are refused so that typos are not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
