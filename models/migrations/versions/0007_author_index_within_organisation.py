"""An author's memos within their organisation, read from the index alone.

A list's "memos I wrote" branch asks for (organisation, author) newest first
(workflow.queries). ``ix_memo_author_id (author_id, id)`` found the rows but had to read
each memo to check its organisation: 1,001 scattered rows for an officer's capped count
(3 ms at 100,000 memos on PostgreSQL). ``ix_memo_org_author (organisation_id, author_id,
id)`` answers it alone. EXPLAIN output in benchmarks/RESULTS.md at 47590cd.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("memo", schema=None) as batch_op:
        batch_op.create_index(
            "ix_memo_org_author", ["organisation_id", "author_id", "id"], unique=False
        )
        batch_op.drop_index("ix_memo_author_id")


def downgrade() -> None:
    with op.batch_alter_table("memo", schema=None) as batch_op:
        batch_op.create_index("ix_memo_author_id", ["author_id", "id"], unique=False)
        batch_op.drop_index("ix_memo_org_author")
