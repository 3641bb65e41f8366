"""`?limit=&cursor=&count=` lists: `items`, an opaque `next_cursor`, and `total` when asked.

The cursor is a keyset: the sort values of the page's last row, signed, so that the next page
starts right after that row with an indexed comparison (a deep page costs what the first does,
where an OFFSET read and threw away every row before it). Rows inserted or deleted meanwhile
shift nothing. `total` counts the whole list, a query of its own: only with `?count=true`.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.types import TypeDecorator

from services.api.errors import Invalid
from shared.secret_key import signing_key

T = TypeVar("T")
UNKNOWN_CURSOR = "cursor is not one this API gave"
# The longest sort values (two names of 200 characters, escaped) fit in a cursor this long.
CURSOR_MAX_LENGTH = 4096
# The types a sort key may have, and how a value of each is read back from the cursor's JSON.
READ_BACK: dict[type, Any] = {
    datetime: datetime.fromisoformat,
    uuid.UUID: uuid.UUID,
    str: str,
    int: int,
}


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
    total: int | None = Field(
        description="How many items the whole list has: only with `count=true`, else null."
    )


class PageParams(BaseModel):
    limit: int
    cursor: str | None
    count: bool


def page_params(
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None,
        Query(max_length=CURSOR_MAX_LENGTH, description="`next_cursor` of the previous page."),
    ] = None,
    count: Annotated[
        bool, Query(description="Also count the whole list (`total`): a query more.")
    ] = False,
) -> PageParams:
    """Read `limit`, the opaque `cursor` and `count` of a list request."""
    return PageParams(limit=limit, cursor=cursor, count=count)


@dataclass(frozen=True)
class Listing:
    """A list's query (filters, joins, loading; no ORDER BY) and its order: `keys` that are
    unique together, all ascending or all descending, so that one row comparison finds where
    a page starts."""

    query: Select[Any]
    keys: tuple[InstrumentedAttribute[Any], ...]
    descending: bool = False

    def name(self) -> str:
        """What a cursor is bound to: a cursor of another list or order is refused."""
        return ",".join(str(key) for key in self.keys) + (" desc" if self.descending else "")

    def ordered(self) -> Select[Any]:
        return self.query.order_by(*(key.desc() if self.descending else key for key in self.keys))

    def after(self, values: list[Any]) -> ColumnElement[bool]:
        """The rows that come after a row with these sort values."""
        row, last = tuple_(*self.keys), tuple_(*values)
        return row < last if self.descending else row > last


def _python_type(key: InstrumentedAttribute[Any]) -> type:
    column_type = key.expression.type
    while isinstance(column_type, TypeDecorator):  # UTCDateTime: a datetime all the same
        column_type = column_type.impl_instance
    return column_type.python_type


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(signing_key(), salt="recrue.list-cursor")


def _cursor(listing: Listing, values: tuple[Any, ...]) -> str:
    written = [value if isinstance(value, int | str) else str(value) for value in values]
    return str(_serializer().dumps({"list": listing.name(), "after": written}))


def _values(listing: Listing, cursor: str) -> list[Any]:
    """The sort values a cursor carries; 422 if this API did not give it for this list."""
    try:
        data = _serializer().loads(cursor)
        if data["list"] != listing.name() or len(data["after"]) != len(listing.keys):
            raise ValueError("another list's cursor")
        return [
            READ_BACK[_python_type(key)](value)
            for key, value in zip(listing.keys, data["after"], strict=True)
        ]
    except (BadSignature, KeyError, TypeError, ValueError):
        raise Invalid(UNKNOWN_CURSOR, field="cursor", at="query") from None


def paginate(session: Session, listing: Listing, params: PageParams) -> dict[str, Any]:
    """One page of `listing`: its rows as `items`, `next_cursor`, and `total` if asked."""
    query = listing.ordered()
    if params.cursor:
        query = query.where(listing.after(_values(listing, params.cursor)))
    # One row more than the page says whether another page follows; the sort values ride
    # along as extra columns (a key may be a joined table's column, as dossiers' job reference).
    rows = session.execute(query.add_columns(*listing.keys).limit(params.limit + 1)).unique().all()
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    total = None
    if params.count:
        counted = listing.query.order_by(None).subquery()
        total = session.scalar(select(func.count()).select_from(counted)) or 0
    return {
        "items": [row[0] for row in rows],
        "next_cursor": _cursor(listing, tuple(rows[-1][1:])) if more else None,
        "total": total,
    }
