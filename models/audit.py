"""The audit log: one hash chain of events per organisation, and the row that holds each
chain's head (locked while appending, so appends are serialised per organisation)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class ChainHead(Base):
    __tablename__ = "audit_chain_head"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """One action. ``hash`` is SHA-256 over the canonical encoding of every other field,
    ``prev_hash`` included (docs/audit.md). Memo and actor ids are deliberately not
    foreign keys: the log must outlive and disagree with tampered rows, not cascade."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    seq: Mapped[int]
    memo_id: Mapped[int | None] = mapped_column(default=None)
    actor_id: Mapped[int | None] = mapped_column(default=None)
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_position: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(80), default=None)
    to_state: Mapped[str | None] = mapped_column(String(80), default=None)
    opinion: Mapped[str | None] = mapped_column(Text, default=None)
    content_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("organisation_id", "seq", name="uq_audit_event_seq"),
        Index("ix_audit_event_memo", "memo_id", "seq"),
        # The organisation's own events (no memo's: accounts, tokens, route, settings),
        # newest first, for the admin's audit page, without walking the memos' events
        # (migration 0011).
        Index(
            "ix_audit_event_own",
            "organisation_id",
            "seq",
            sqlite_where=text("memo_id IS NULL"),
            postgresql_where=text("memo_id IS NULL"),
        ),
    )
