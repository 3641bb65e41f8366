"""`?limit=&cursor=` lists: `items` and an opaque `next_cursor`."""

import base64
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from services.api.errors import Invalid
from services.api.schemas import BIGINT_MAX

T = TypeVar("T")
UNKNOWN_CURSOR = "cursor is not one this API gave"


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None
    total: int


class PageParams(BaseModel):
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> PageParams:
    """Read `limit` and the opaque `cursor` (an encoded offset) of a list request."""
    offset = 0
    if cursor:
        try:
            offset = int(base64.urlsafe_b64decode(cursor.encode()).decode())
        except ValueError:
            raise Invalid(UNKNOWN_CURSOR, field="cursor", at="query") from None
        if not 0 <= offset <= BIGINT_MAX:  # SQL OFFSET is a BIGINT
            raise Invalid(UNKNOWN_CURSOR, field="cursor", at="query")
    return PageParams(limit=limit, offset=offset)


def paginate(session: Session, query: Select[Any], params: PageParams) -> dict[str, Any]:
    """Run `query` for one page: the rows as `items`, `next_cursor` and `total`."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(session.scalars(query.limit(params.limit).offset(params.offset)).unique())
    end = params.offset + len(rows)
    next_cursor = base64.urlsafe_b64encode(str(end).encode()).decode() if end < total else None
    return {"items": rows, "next_cursor": next_cursor, "total": total}
