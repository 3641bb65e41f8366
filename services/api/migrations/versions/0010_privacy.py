"""personal data: retention dates, legal holds, the personnel file flag, anonymisation marks

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("candidates") as batch:
        batch.add_column(sa.Column("anonymised_at", _WHEN, nullable=True))
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("candidate_acted_at", _WHEN, nullable=True))
        batch.add_column(sa.Column("renewal_sent_at", _WHEN, nullable=True))
        batch.add_column(sa.Column("anonymised_at", _WHEN, nullable=True))
        batch.create_index("ix_applications_candidate_acted_at", ["candidate_acted_at"])
        batch.create_index("ix_applications_anonymised_at", ["anonymised_at"])
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("legal_hold_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("legal_hold_since", _WHEN, nullable=True))
        batch.add_column(sa.Column("personnel_file_since", _WHEN, nullable=True))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("closed_at", _WHEN, nullable=True))
        batch.create_index("ix_jobs_closed_at", ["closed_at"])
    # Existing rows: the candidate last acted when the application was made; a job closed
    # before this revision closed at its last change, the best date known.
    op.execute("UPDATE applications SET candidate_acted_at = created_at")
    op.execute("UPDATE jobs SET closed_at = updated_at WHERE status = 'closed'")


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_closed_at")
        batch.drop_column("closed_at")
    with op.batch_alter_table("dossiers") as batch:
        batch.drop_column("personnel_file_since")
        batch.drop_column("legal_hold_since")
        batch.drop_column("legal_hold_reason")
    with op.batch_alter_table("applications") as batch:
        batch.drop_index("ix_applications_anonymised_at")
        batch.drop_index("ix_applications_candidate_acted_at")
        batch.drop_column("anonymised_at")
        batch.drop_column("renewal_sent_at")
        batch.drop_column("candidate_acted_at")
    with op.batch_alter_table("candidates") as batch:
        batch.drop_column("anonymised_at")
