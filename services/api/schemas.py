"""Schema pieces shared by several resources."""

import re
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
    Field,
    GetJsonSchemaHandler,
    WithJsonSchema,
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


def _iso_text(value: Any) -> Any:
    """A time or a date comes as ISO 8601 text, as the OpenAPI says (`format: date-time`), not
    as a number of seconds since 1970."""
    if not isinstance(value, str):
        raise PydanticCustomError("iso_text", "must be ISO 8601 text")
    return value


# Times come in with an offset and are kept in UTC from there on, so that nothing stored or
# echoed (booking windows, history entries) keeps the client's offset.
AwareUTC = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_to_utc)]


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


# Scores, weights and maxima go out with their two decimals, whether just written or read back.
Points = Annotated[Decimal, AfterValidator(_two_places)]

# A two-decimal number coming in: a JSON number, or a decimal string of digits ("12.5").
DECIMAL_TEXT = r"^[0-9]{1,9}(\.[0-9]{1,2})?$"


def _json_decimal(value: Any) -> Any:
    if isinstance(value, bool) or (
        isinstance(value, str) and not re.fullmatch(DECIMAL_TEXT, value)
    ):
        raise PydanticCustomError(
            "decimal_type", "must be a number with at most two decimals, or such a number as text"
        )
    return value


def two_decimals(
    *, ge: float | None = None, gt: float | None = None, le: float | None = None
) -> Any:
    """The type of a two-decimal input (a score, a weight) within bounds, stated in the
    OpenAPI as JSON Schema states them: multipleOf 0.01 and the bounds on a number; a string
    of digits with at most two decimals (whose bounds the description gives)."""
    bounds = {"minimum": ge, "exclusiveMinimum": gt, "maximum": le}
    number: dict[str, Any] = {"type": "number", "multipleOf": 0.01}
    number.update({key: value for key, value in bounds.items() if value is not None})
    text = DECIMAL_TEXT
    if le is not None:  # a power of ten: up to it, as text too
        digits = len(str(int(le))) - 1
        assert le == 10**digits, "text bounds are said for powers of ten"
        text = f"^({int(le)}(\\.0{{1,2}})?|[0-9]{{1,{digits}}}(\\.[0-9]{{1,2}})?)$"
    return Annotated[
        Decimal,
        BeforeValidator(_json_decimal),
        Field(ge=ge, gt=gt, le=le, decimal_places=2),
        WithJsonSchema({"anyOf": [number, {"type": "string", "pattern": text}]}),
    ]


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


# No text coming in may hold a NUL character (PostgreSQL cannot store one): every request text
# says so in its schema (services.api.openapi), unless a pattern, format or enum narrows it.
NO_NUL = "^[^\\u0000]*$"
# Request bodies strip the spaces around texts (`Input`): a text that must not be empty must
# hold something else than spaces (Unicode White_Space, as pydantic strips them) and NULs.
_SPACES = (
    "\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
NOT_BLANK = f"^[^\\u0000]*[^{_SPACES}\\u0000][^\\u0000]*$"


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


# Cross-field rules, stated in a body's JSON Schema (`model_config = rules(...)`).
def case(
    given: tuple[str, ...] = (), absent: tuple[str, ...] = (), **properties: Any
) -> dict[str, Any]:
    """A JSON Schema branch: each of `given` is present and not null, each of `absent` is
    absent or null, and the other `properties` hold."""
    props: dict[str, Any] = {name: {"type": "null"} for name in absent}
    props.update({name: {"not": {"type": "null"}} for name in given})
    props.update(properties)
    branch: dict[str, Any] = {"properties": props}
    if given:
        branch["required"] = list(given)
    return branch


def rules(**keywords: Any) -> ConfigDict:
    """An `Input` model's config adding JSON Schema keywords (`oneOf=[...]`, `allOf=[...]`)
    to what `Input` says of its schema."""

    def extra(schema: dict[str, Any]) -> None:
        _no_null_default(schema)
        schema.update(keywords)

    return ConfigDict(json_schema_extra=extra)
