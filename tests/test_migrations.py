"""The one Alembic history builds exactly the schema the models describe."""

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from services.api.migrations import alembic_config


def test_models_and_migrations_agree() -> None:
    # Raises if autogenerate would find any difference on the migrated run database.
    command.check(alembic_config(os.environ["DATABASE_URL"]))


def test_one_linear_history() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


def test_candidates_of_before_0007_are_found_without_accents(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0006")
    engine = create_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO candidates (id, first_name, last_name, email, language, created_at,"
                " updated_at) VALUES (:id, 'Jürgen', 'MÜLLER', 'j.muller@example.de', 'de', :now,"
                " :now)"
            ),
            {"id": uuid.uuid4().hex, "now": now},
        )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as connection:
        found = connection.execute(text("SELECT search_text FROM candidates")).scalar_one()
    engine.dispose()
    assert found == "jurgen muller j.muller@example.de"
