"""candidates are searched by their names and email folded: no case, no accents

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 01:10:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of shared.models.candidate.folded as it was written for this migration: a migration
# must not change when the application's code does.
_UNDECOMPOSED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "æ": "ae", "œ": "oe"})


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNDECOMPOSED))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _trigram(column: str) -> dict[str, object]:
    return {"postgresql_using": "gin", "postgresql_ops": {column: "gin_trgm_ops"}}


def upgrade() -> None:
    with op.batch_alter_table("candidates") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    candidates = sa.table(
        "candidates",
        sa.column("id", sa.Uuid()),
        sa.column("first_name", sa.String()),
        sa.column("last_name", sa.String()),
        sa.column("email", sa.String()),
        sa.column("search_text", sa.Text()),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            candidates.c.id, candidates.c.first_name, candidates.c.last_name, candidates.c.email
        )
    ).all()
    for row in rows:
        connection.execute(
            candidates.update()
            .where(candidates.c.id == row.id)
            .values(search_text=_folded(f"{row.first_name} {row.last_name} {row.email}"))
        )
    for column in ("first_name", "last_name", "email"):
        op.drop_index(f"ix_candidates_{column}_trgm", table_name="candidates", **_trigram(column))
    op.create_index(
        "ix_candidates_search_text_trgm", "candidates", ["search_text"], **_trigram("search_text")
    )


def downgrade() -> None:
    op.drop_index(
        "ix_candidates_search_text_trgm", table_name="candidates", **_trigram("search_text")
    )
    for column in ("first_name", "last_name", "email"):
        op.create_index(f"ix_candidates_{column}_trgm", "candidates", [column], **_trigram(column))
    with op.batch_alter_table("candidates") as batch:
        batch.drop_column("search_text")
