"""organisation emblem: the Garuda image printed at the top left of documents

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 18:05:25.876064
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("emblem_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("emblem_media_type", sa.String(length=30), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_organisation_emblem_sha256_blob"), "blob", ["emblem_sha256"], ["sha256"]
        )
        # Autogenerate does not emit CHECK constraints; written by hand.
        batch_op.create_check_constraint(
            "emblem_complete", "(emblem_sha256 IS NULL) = (emblem_media_type IS NULL)"
        )


def downgrade() -> None:
    # Two batches: constraints first, then the columns they name (one batch that does
    # both cannot order the table rebuild on SQLite).
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_organisation_emblem_complete"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_organisation_emblem_sha256_blob"), type_="foreignkey"
        )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("emblem_media_type")
        batch_op.drop_column("emblem_sha256")
