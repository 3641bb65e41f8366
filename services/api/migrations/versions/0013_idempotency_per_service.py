"""idempotency keys per service: a service signed in with its own token keeps its keys

A stored answer belongs to an API key, a person (a person's token), or now a service (the client
id of a token that names no person): exactly one of the three. Existing rows keep their owner.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 08:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_OF_TWO = "(api_key_id IS NULL) <> (person_id IS NULL)"
ONE_OF_THREE = (
    "(CASE WHEN api_key_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN person_id IS NULL THEN 0 ELSE 1"
    " END) + (CASE WHEN service IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade() -> None:
    with op.batch_alter_table("idempotent_requests") as batch:
        batch.drop_constraint(batch.f("ck_idempotent_requests_one_caller"), type_="check")
        batch.add_column(sa.Column("service", sa.String(length=200), nullable=True))
        batch.create_unique_constraint(
            batch.f("uq_idempotent_requests_service"), ["service", "key"]
        )
        batch.create_check_constraint(batch.f("ck_idempotent_requests_one_caller"), ONE_OF_THREE)


def downgrade() -> None:
    # A service's answers have no API key or person to belong to: they are forgotten (a repeat
    # of one of their keys is then a new request, as after IDEMPOTENCY_KEY_HOURS).
    op.execute("DELETE FROM idempotent_requests WHERE service IS NOT NULL")
    with op.batch_alter_table("idempotent_requests") as batch:
        batch.drop_constraint(batch.f("ck_idempotent_requests_one_caller"), type_="check")
        batch.drop_constraint("uq_idempotent_requests_service", type_="unique")
        batch.drop_column("service")
        batch.create_check_constraint(batch.f("ck_idempotent_requests_one_caller"), ONE_OF_TWO)
