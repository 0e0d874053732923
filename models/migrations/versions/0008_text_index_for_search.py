"""A trigram index of the memos' subjects and numbers, for the lists' search box.

A substring search (``LIKE '%...%'``) read every memo of the organisation: 120-190 ms at
100,000 memos, growing with them. Trigrams find any substring of three characters or more
without breaking Thai into words: FTS5's trigram tokenizer on SQLite (a table kept by
triggers), pg_trgm's GIN indexes on PostgreSQL. The statements are models.search's, the
ones ``create_all`` runs; existing memos are indexed here. EXPLAIN output and timings in
benchmarks/RESULTS.md at 47590cd.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from models import search

# Revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    search.create_text_index(op.get_bind())


def downgrade() -> None:
    search.drop_text_index(op.get_bind())
