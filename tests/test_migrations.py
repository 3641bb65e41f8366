"""The one Alembic history builds exactly the schema the models describe."""

import os

from alembic import command
from alembic.script import ScriptDirectory

from services.api.migrations import alembic_config


def test_models_and_migrations_agree() -> None:
    # Raises if autogenerate would find any difference on the migrated run database.
    command.check(alembic_config(os.environ["DATABASE_URL"]))


def test_one_linear_history() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1
