"""`?q=` searches: the text is matched as typed, `%` and `_` included."""

from typing import Any

from sqlalchemy import ColumnElement

ESCAPE = "/"


def contains(column: Any, q: str) -> ColumnElement[bool]:
    """`column` contains `q`, case-insensitively; LIKE's wildcards in `q` are plain characters
    (ILIKE on PostgreSQL, so the trigram indexes still serve it; LIKE on SQLite)."""
    escaped = q.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return column.ilike(f"%{escaped}%", escape=ESCAPE)  # type: ignore[no-any-return]
