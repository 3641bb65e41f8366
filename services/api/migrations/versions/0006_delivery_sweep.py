"""the database drives deliveries: message due times and leases, outbox events done

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_messages_next_attempt_at", ["next_attempt_at"])
        batch.create_index("ix_messages_lease_expires_at", ["lease_expires_at"])
    # Rows waiting today are due now. Rows 'sending' while the stack stopped for the upgrade were
    # abandoned: their lease is over, and the first sweep makes them 'unknown'.
    op.execute(
        "UPDATE messages SET next_attempt_at = updated_at WHERE status IN ('queued', 'retrying')"
    )
    op.execute("UPDATE messages SET lease_expires_at = updated_at WHERE status = 'sending'")
    with op.batch_alter_table("outbox_events") as batch:
        batch.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_outbox_events_done_at", ["done_at"])
    op.execute("UPDATE outbox_events SET done_at = published_at")


def downgrade() -> None:
    with op.batch_alter_table("outbox_events") as batch:
        batch.drop_index("ix_outbox_events_done_at")
        batch.drop_column("done_at")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_lease_expires_at")
        batch.drop_index("ix_messages_next_attempt_at")
        batch.drop_column("lease_expires_at")
        batch.drop_column("next_attempt_at")
