"""Attachments found by their contents' SHA-256.

Removing an attachment asks whether any other attachment still has the same contents
before deleting them (workflow.actions.remove_attachment), and on PostgreSQL deleting a
contents row makes the foreign key check every attachment for it. Without an index on
``attachment.sha256`` both read the whole attachment table, every organisation's, which
grows with the years. ``ix_attachment_sha256`` answers both from the index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain CREATE INDEX on both databases: adding an index changes no table, so
    # batch mode (docs/migrations.md) has nothing to do here.
    op.create_index("ix_attachment_sha256", "attachment", ["sha256"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_attachment_sha256", table_name="attachment")
