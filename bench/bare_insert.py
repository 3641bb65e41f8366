"""The decision endpoint's floor: a bare FastAPI route that inserts one row with SQLAlchemy.

One sync route in FastAPI's thread pool, a session per request from the stack's own engine
(shared.db: same pool, same statement limits) on the same database, one INSERT and a commit, a
JSON answer: what any FastAPI + SQLAlchemy write costs here, without the application's work.
Served by its own uvicorn process next to the API (`python -m bench.bare_insert PORT`).
"""

import sys
import uuid
from datetime import datetime
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import JSON, MetaData, Table, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import get_engine, session_scope
from shared.models.base import UTCDateTime


class Base(DeclarativeBase):
    metadata = MetaData()


class BareRow(Base):
    __tablename__ = "bench_bare_rows"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


app = FastAPI()


@app.post("/rows", status_code=201)
def insert_row(payload: dict[str, Any]) -> dict[str, str]:
    with session_scope() as session:
        row = BareRow(payload=payload)
        session.add(row)
        session.flush()
        return {"id": str(row.id)}


def main() -> None:
    table = BareRow.__table__
    assert isinstance(table, Table)
    table.create(get_engine(), checkfirst=True)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")


if __name__ == "__main__":
    main()
