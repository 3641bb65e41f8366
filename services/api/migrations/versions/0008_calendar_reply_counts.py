"""calendar answers read, counted by outcome in the database (exported by the API's /metrics)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_reply_counts",
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("outcome"),
    )


def downgrade() -> None:
    op.drop_table("calendar_reply_counts")
