"""List indexes: the newest memos of one organisation, and of one author.

Lists show memos newest first (``ORDER BY id DESC``). Walking the primary key for that
passes every other organisation's newer memos on the way (a hosted service holds many
organisations); ``ix_memo_org_newest`` reads one organisation's memos in order. An
officer's own list picks a few memos among many; ``ix_memo_author_id`` now carries the
order too. EXPLAIN output in benchmarks/RESULTS.md at 47590cd.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 19:00:42.644695
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("memo", schema=None) as batch_op:
        batch_op.drop_index("ix_memo_author_id")
        batch_op.create_index("ix_memo_author_id", ["author_id", "id"], unique=False)
        batch_op.create_index("ix_memo_org_newest", ["organisation_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("memo", schema=None) as batch_op:
        batch_op.drop_index("ix_memo_org_newest")
        batch_op.drop_index("ix_memo_author_id")
        batch_op.create_index("ix_memo_author_id", ["author_id"], unique=False)
