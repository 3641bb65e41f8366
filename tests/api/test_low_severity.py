"""Findings of the security audit's low-severity part (issue 12): each through HTTP or the
process, each a 4xx problem+json rather than a 500 or a leak."""


import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


def test_database_errors_never_carry_sql_parameters() -> None:
    """SQL parameters are personal data: the text of a database error (what every log prints)
    names the statement, never the values."""
    from shared.db import get_engine

    email = "leak.me@example.org"
    with pytest.raises(DBAPIError) as caught, get_engine().begin() as connection:
        # refused by both databases, whose own message does not quote the value
        connection.execute(
            text("SELECT no_such_column FROM candidates WHERE email = :e"), {"e": email}
        )
    message = str(caught.value)
    assert "no_such_column" in message
    assert email not in message
    assert "hidden" in message
