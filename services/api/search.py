"""`?q=` searches: the text is matched as typed, `%` and `_` included."""

from typing import Any

from sqlalchemy import ColumnElement

from shared.models.candidate import folded

ESCAPE = "/"


def _escaped(q: str) -> str:
    return q.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains_folded(column: Any, q: str) -> ColumnElement[bool]:
    """`column`, which holds folded text (lower case, no accents), contains `q` folded the same
    way: "Muller" finds "Müller" and "muller" finds "MÜLLER". LIKE serves the trigram index."""
    return column.like(f"%{_escaped(folded(q))}%", escape=ESCAPE)  # type: ignore[no-any-return]


def contains(column: Any, q: str) -> ColumnElement[bool]:
    """`column` contains `q`, case-insensitively; LIKE's wildcards in `q` are plain characters
    (ILIKE on PostgreSQL, so the trigram indexes still serve it; LIKE on SQLite)."""
    return column.ilike(f"%{_escaped(q)}%", escape=ESCAPE)  # type: ignore[no-any-return]
