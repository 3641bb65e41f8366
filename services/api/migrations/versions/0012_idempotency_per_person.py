"""idempotency keys per person: a person signed in with a token keeps their own keys

A stored answer belongs to an API key (as before) or to a person (a token's caller): exactly one
of the two. Existing rows all belong to an API key and stay valid.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_CALLER = "(api_key_id IS NULL) <> (person_id IS NULL)"


def upgrade() -> None:
    # Nothing refers to idempotent_requests: SQLite's rebuild of it leaves no foreign key to check.
    with op.batch_alter_table("idempotent_requests") as batch:
        batch.alter_column("api_key_id", existing_type=sa.Uuid(), nullable=True)
        batch.add_column(sa.Column("person_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_idempotent_requests_person_id_people"), "people", ["person_id"], ["id"]
        )
        batch.create_unique_constraint(
            batch.f("uq_idempotent_requests_person_id"), ["person_id", "key"]
        )
        batch.create_check_constraint(batch.f("ck_idempotent_requests_one_caller"), ONE_CALLER)


def downgrade() -> None:
    # A person's answers have no API key to belong to: they are forgotten (a repeat of one of
    # their keys is then a new request, as after IDEMPOTENCY_KEY_HOURS).
    op.execute("DELETE FROM idempotent_requests WHERE api_key_id IS NULL")
    with op.batch_alter_table("idempotent_requests") as batch:
        batch.drop_constraint(batch.f("ck_idempotent_requests_one_caller"), type_="check")
        batch.drop_constraint("uq_idempotent_requests_person_id", type_="unique")
        batch.drop_constraint("fk_idempotent_requests_person_id_people", type_="foreignkey")
        batch.drop_column("person_id")
        batch.alter_column("api_key_id", existing_type=sa.Uuid(), nullable=False)
