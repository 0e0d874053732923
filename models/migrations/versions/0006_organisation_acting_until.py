"""organisation.acting_until: the last day any authorisation not ended early is valid,
so that the everyday case (nobody acts for anybody) skips the authorisation query

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acting_until", sa.Date(), nullable=True))
    # Existing authorisations: the same value workflow.acting keeps from now on.
    op.execute(
        "UPDATE organisation SET acting_until = ("
        " SELECT max(valid_to) FROM acting_authorisation"
        " WHERE acting_authorisation.organisation_id = organisation.id"
        " AND acting_authorisation.ended_at IS NULL)"
    )


def downgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("acting_until")
