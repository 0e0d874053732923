"""Sign-ins: one row per signed-in browser, so that signing out ends that browser's
session (every copy of its cookie) and leaves the user's other browsers signed in.
Before, signing out replaced the user's session nonce and so ended every device's session.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new table: nothing to copy. Browsers signed in before the upgrade have no row and
    # are asked to sign in again.
    op.create_table(
        "sign_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_sign_in_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in")),
        sa.UniqueConstraint("key_sha256", name=op.f("uq_sign_in_key_sha256")),
    )
    op.create_index(op.f("ix_sign_in_user_id"), "sign_in", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sign_in_user_id"), table_name="sign_in")
    op.drop_table("sign_in")
