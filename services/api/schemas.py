"""Schema pieces shared by several resources."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetJsonSchemaHandler,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# The largest value of an SQL BIGINT: query parameters compared with integer columns stay within
# what the databases can hold (beyond it: a 422, not a 500).
BIGINT_MAX = 2**63 - 1
YearQuery = Annotated[int | None, Query(ge=1, le=9999)]
CampaignQuery = Annotated[str | None, Query(max_length=100)]

# Times go out in UTC, whatever offset they came in with.
UTCDateTime = Annotated[datetime, AfterValidator(_to_utc)]
# Times come in with an offset and are kept in UTC from there on, so that nothing stored or
# echoed (booking windows, history entries) keeps the client's offset.
AwareUTC = Annotated[AwareDatetime, AfterValidator(_to_utc)]


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


# Scores, weights and maxima go out with their two decimals, whether just written or read back.
Points = Annotated[Decimal, AfterValidator(_two_places)]


T = TypeVar("T")


def _refuse_null(value: object) -> object:
    if value is None:
        raise PydanticCustomError("not_null", "may be left out, but not null")
    return value


class _NoNullInSchema:
    """The JSON schema of an `Omittable` field: its type, without the null branch."""

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        branches = [b for b in json_schema.get("anyOf", []) if b.get("type") != "null"]
        if len(branches) == 1:
            json_schema.pop("anyOf")
            json_schema.update(branches[0])
        elif branches:
            json_schema["anyOf"] = branches
        return json_schema


# A field of a PATCH that may be left out (unchanged) but not emptied: an explicit null is a
# 422 naming the field, and the schema gives it no null type.
Omittable = Annotated[T | None, BeforeValidator(_refuse_null), _NoNullInSchema()]


class Resource(BaseModel):
    """What every resource carries."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: UTCDateTime
    updated_at: UTCDateTime


# Levels of objects and arrays one field of a request body may nest (a free-form `profile`
# needs a few; pydantic cannot serialise an answer nested beyond 255).
MAX_DEPTH = 32


def plain_text(value: Any) -> Any:
    """A field's value as sent, if it holds no NUL character in any text or key (PostgreSQL
    cannot store one) and nests at most MAX_DEPTH levels; an error naming where otherwise."""
    pending: list[tuple[Any, int, str]] = [(value, 0, "")]
    while pending:
        item, depth, path = pending.pop()
        at = f" (at {path.lstrip('.')})" if path else ""
        if isinstance(item, str):
            if "\x00" in item:
                raise PydanticCustomError("nul_character", f"must not contain a NUL character{at}")
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise PydanticCustomError("too_deep", f"nested more than {MAX_DEPTH} levels{at}")
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str) and "\x00" in key:
                    raise PydanticCustomError("nul_character", f"a key has a NUL character{at}")
                pending.append((child, depth + 1, f"{path}.{key}"))
    return value


class PlainText(BaseModel):
    """A model whose every field goes through `plain_text` before its own validation."""

    @field_validator("*", mode="before")
    @classmethod
    def _plain_text(cls, value: Any) -> Any:
        return plain_text(value)


def _no_null_default(schema: dict[str, Any]) -> None:
    """An optional field that cannot be null shows no `default: null` (left out: unchanged)."""
    for field in schema.get("properties", {}).values():
        nullable = field.get("type") == "null" or any(
            branch.get("type") == "null" for branch in field.get("anyOf", [])
        )
        if "default" in field and field["default"] is None and not nullable:
            del field["default"]


class Input(PlainText):
    """A request body: unknown fields are refused so that typos are not silently dropped."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_no_null_default
    )
