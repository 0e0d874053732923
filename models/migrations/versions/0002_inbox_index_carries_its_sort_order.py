"""The inbox index carries its sort order.

The inbox lists the memos waiting for a role oldest first (``ORDER BY updated_at, id``);
with ``updated_at`` in the index the first page is read in order instead of sorting every
waiting memo (EXPLAIN output in benchmarks/RESULTS.md at 47590cd).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 17:12:11.059377
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("memo", schema=None) as batch_op:
        batch_op.drop_index("ix_memo_inbox")
        batch_op.create_index(
            "ix_memo_inbox", ["organisation_id", "pending_role", "updated_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("memo", schema=None) as batch_op:
        batch_op.drop_index("ix_memo_inbox")
        batch_op.create_index(
            "ix_memo_inbox", ["organisation_id", "pending_role", "id"], unique=False
        )
