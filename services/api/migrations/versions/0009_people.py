"""people: HR agents and examiners as people; examiners assigned as people; the person and the
service recorded on history entries, notes, messages and results

Every examiner key becomes a person named after the key (with a placeholder address under
.invalid that an admin corrects), the key belongs to that person (so it keeps working), and the
trials assigned to the key are assigned to the person. Rows written before keep their actor
text and no person.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 03:45:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTED_BY = ("history_entries", "notes", "messages")


def _defer_foreign_keys() -> None:
    """SQLite rebuilds a table to alter it (api_keys, trial_examiners...): the rows that refer
    to it are valid again once it is rebuilt, so their checks must wait. Outside a transaction
    the checks are turned off (migrations run on a connection of their own, disposed after);
    inside one, they are deferred to its commit."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA foreign_keys = OFF")
        op.execute("PRAGMA defer_foreign_keys = ON")


def upgrade() -> None:
    _defer_foreign_keys()
    op.create_table(
        "people",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("calendar_token_hash", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("calendar_token_hash", name=op.f("uq_people_calendar_token_hash")),
        sa.UniqueConstraint("email", name=op.f("uq_people_email")),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("person_id", sa.Uuid(), nullable=True))
        batch.add_column(
            sa.Column("acts_for_people", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index(batch.f("ix_api_keys_person_id"), ["person_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_api_keys_person_id_people"), "people", ["person_id"], ["id"]
        )
    for table in ACTED_BY:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("person_id", sa.Uuid(), nullable=True))
            batch.add_column(sa.Column("person_name", sa.String(length=200), nullable=True))
            batch.add_column(sa.Column("service", sa.String(length=200), nullable=True))
            batch.create_index(batch.f(f"ix_{table}_person_id"), ["person_id"], unique=False)
    with op.batch_alter_table("participations") as batch:
        batch.add_column(sa.Column("result_person_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("result_person_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("result_service", sa.String(length=200), nullable=True))
    with op.batch_alter_table("trial_examiners") as batch:
        batch.add_column(sa.Column("person_id", sa.Uuid(), nullable=True))
    _examiner_keys_become_people()
    with op.batch_alter_table("trial_examiners") as batch:
        batch.drop_constraint("uq_trial_examiners_trial_id", type_="unique")
        batch.drop_constraint("fk_trial_examiners_api_key_id_api_keys", type_="foreignkey")
        batch.drop_index("ix_trial_examiners_api_key_id")
        batch.drop_column("api_key_id")
        batch.alter_column("person_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_index(batch.f("ix_trial_examiners_person_id"), ["person_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_trial_examiners_person_id_people"), "people", ["person_id"], ["id"]
        )
        batch.create_unique_constraint(
            batch.f("uq_trial_examiners_trial_id"), ["trial_id", "person_id"]
        )


def _examiner_keys_become_people() -> None:
    keys = sa.table(
        "api_keys",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("role", sa.String()),
        sa.column("revoked_at", sa.DateTime(timezone=True)),
        sa.column("person_id", sa.Uuid()),
    )
    people = sa.table(
        "people",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("email", sa.String()),
        sa.column("roles", sa.JSON()),
        sa.column("active", sa.Boolean()),
        sa.column("language", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    links = sa.table(
        "trial_examiners", sa.column("api_key_id", sa.Uuid()), sa.column("person_id", sa.Uuid())
    )
    connection = op.get_bind()
    now = datetime.now(UTC)
    examiners = connection.execute(
        sa.select(keys.c.id, keys.c.name, keys.c.revoked_at).where(keys.c.role == "examiner")
    ).all()
    for key_id, name, revoked_at in examiners:
        person_id = uuid.uuid4()
        connection.execute(
            people.insert().values(
                id=person_id,
                name=name,
                email=f"examiner-{key_id.hex}@examiners.invalid",
                roles=["examiner"],
                active=revoked_at is None,
                language="fr",
                created_at=now,
                updated_at=now,
            )
        )
        connection.execute(keys.update().where(keys.c.id == key_id).values(person_id=person_id))
        connection.execute(
            links.update().where(links.c.api_key_id == key_id).values(person_id=person_id)
        )


def downgrade() -> None:
    _defer_foreign_keys()
    with op.batch_alter_table("trial_examiners") as batch:
        batch.add_column(sa.Column("api_key_id", sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE trial_examiners SET api_key_id = (SELECT api_keys.id FROM api_keys"
        " WHERE api_keys.person_id = trial_examiners.person_id LIMIT 1)"
    )
    op.execute("DELETE FROM trial_examiners WHERE api_key_id IS NULL")
    with op.batch_alter_table("trial_examiners") as batch:
        batch.drop_constraint("uq_trial_examiners_trial_id", type_="unique")
        batch.drop_constraint("fk_trial_examiners_person_id_people", type_="foreignkey")
        batch.drop_index("ix_trial_examiners_person_id")
        batch.drop_column("person_id")
        batch.alter_column("api_key_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_index("ix_trial_examiners_api_key_id", ["api_key_id"], unique=False)
        batch.create_foreign_key(
            "fk_trial_examiners_api_key_id_api_keys", "api_keys", ["api_key_id"], ["id"]
        )
        batch.create_unique_constraint("uq_trial_examiners_trial_id", ["trial_id", "api_key_id"])
    with op.batch_alter_table("participations") as batch:
        batch.drop_column("result_service")
        batch.drop_column("result_person_name")
        batch.drop_column("result_person_id")
    for table in ACTED_BY:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_person_id")
            batch.drop_column("service")
            batch.drop_column("person_name")
            batch.drop_column("person_id")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint("fk_api_keys_person_id_people", type_="foreignkey")
        batch.drop_index("ix_api_keys_person_id")
        batch.drop_column("acts_for_people")
        batch.drop_column("person_id")
    op.drop_table("people")
