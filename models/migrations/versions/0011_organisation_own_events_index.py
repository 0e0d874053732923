"""The organisation's own audit events (those of no memo) found by their own index.

The admin's audit page lists an organisation's events that concern no memo — accounts,
API tokens, the route, its settings, authorisations — newest first. The unique index on
(organisation_id, seq) would walk every memo event of the organisation to find them, and
memo events are nearly all of a chain. ``ix_audit_event_own`` is a partial index of
(organisation_id, seq) over the events whose memo_id is NULL only: small, and in order.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain CREATE INDEX ... WHERE on both databases (no table is rebuilt).
    op.create_index(
        "ix_audit_event_own",
        "audit_event",
        ["organisation_id", "seq"],
        unique=False,
        sqlite_where=sa.text("memo_id IS NULL"),
        postgresql_where=sa.text("memo_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_audit_event_own", table_name="audit_event")
