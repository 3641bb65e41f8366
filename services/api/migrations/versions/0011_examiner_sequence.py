"""the SEQUENCE of each examiner's calendar event, raised at each change of their trial

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing assignments were sent only their invitation: SEQUENCE 0.
    with op.batch_alter_table("trial_examiners") as batch:
        batch.add_column(sa.Column("sequence", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("trial_examiners") as batch:
        batch.drop_column("sequence")
