"""A memo (บันทึกข้อความ), the opinions written on it, and its attachments."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.organisation import Organisation
from models.user import User


class Urgency(enum.StrEnum):
    """ชั้นความเร็ว."""

    normal = "normal"
    urgent = "urgent"  # ด่วน
    very_urgent = "very_urgent"  # ด่วนมาก
    most_urgent = "most_urgent"  # ด่วนที่สุด


class Secrecy(enum.StrEnum):
    """ชั้นความลับ."""

    normal = "normal"
    confidential = "confidential"  # ลับ
    secret = "secret"  # ลับมาก
    top_secret = "top_secret"  # ลับที่สุด


class Decision(enum.StrEnum):
    """The final signer's decision when signing (ลงนาม)."""

    acknowledged = "acknowledged"  # ทราบ
    approved = "approved"  # อนุมัติ
    agreed = "agreed"  # เห็นชอบ


class OpinionAction(enum.StrEnum):
    endorse = "endorse"
    return_ = "return"
    sign = "sign"
    reject = "reject"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Memo(Base):
    __tablename__ = "memo"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    unit: Mapped[str] = mapped_column(Text, default="")  # ส่วนราชการ
    # ที่: issued at the first submission; kept as printed then, e.g. "พท 72001/7".
    number: Mapped[str | None] = mapped_column(String(100), default=None)
    number_year: Mapped[int | None] = mapped_column(default=None)
    number_sequence: Mapped[int | None] = mapped_column(default=None)
    date: Mapped[date | None] = mapped_column(default=None)  # วันที่ (Asia/Bangkok)
    subject: Mapped[str] = mapped_column(Text)  # เรื่อง
    to: Mapped[str] = mapped_column(Text)  # เรียน
    background: Mapped[str] = mapped_column(Text, default="")  # เรื่องเดิม
    facts: Mapped[str] = mapped_column(Text, default="")  # ข้อเท็จจริง
    proposal: Mapped[str] = mapped_column(Text, default="")  # ข้อเสนอ/ข้อพิจารณา
    urgency: Mapped[str] = mapped_column(String(20), default=Urgency.normal.value)
    secrecy: Mapped[str] = mapped_column(String(20), default=Secrecy.normal.value)
    state: Mapped[str] = mapped_column(String(80), default="draft")
    # The role that must act now (derived from state and route; kept for a fast inbox).
    pending_role: Mapped[str | None] = mapped_column(String(50), default=None)
    # A round is one pass along the route; a return starts the next one.
    round: Mapped[int] = mapped_column(default=1)
    version: Mapped[int] = mapped_column(default=1)
    # The route the memo was first submitted with (a snapshot, so route edits do not
    # change memos already under way).
    route_snapshot: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined", innerjoin=True)
    opinions: Mapped[list[Opinion]] = relationship(
        back_populates="memo", order_by="Opinion.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="memo", order_by="Attachment.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint(_in("urgency", Urgency), name="urgency_known"),
        CheckConstraint(_in("secrecy", Secrecy), name="secrecy_known"),
        CheckConstraint("version >= 1 AND round >= 1", name="version_and_round_positive"),
        CheckConstraint(
            "(number IS NULL AND number_year IS NULL AND number_sequence IS NULL"
            " AND date IS NULL) OR (number IS NOT NULL AND number_year IS NOT NULL"
            " AND number_sequence IS NOT NULL AND date IS NOT NULL)",
            name="number_and_date_together",
        ),
        CheckConstraint(
            "state NOT IN ('signed', 'rejected') OR decided_by_id IS NOT NULL",
            name="decided_memo_has_decider",
        ),
        CheckConstraint(
            "state = 'draft' OR state = 'withdrawn' OR number IS NOT NULL",
            name="submitted_memo_has_number",
        ),
        UniqueConstraint(
            "organisation_id", "number_year", "number_sequence", name="uq_memo_number"
        ),
        CheckConstraint(
            "(substr(state, 1, 8) = 'pending_') = (pending_role IS NOT NULL)",
            name="pending_memo_has_pending_role",
        ),
        Index("ix_memo_org_state", "organisation_id", "state", "id"),
        # The inbox filters on (organisation, pending role) and lists oldest first, so the
        # index carries the sort too: the first page is read in order, never sorted.
        Index("ix_memo_inbox", "organisation_id", "pending_role", "updated_at", "id"),
        # Lists show the newest first: within one organisation (other organisations' memos
        # are never walked past), and an author's own in their organisation (a few among
        # many), read in order from the index alone (workflow.queries).
        Index("ix_memo_org_newest", "organisation_id", "id"),
        Index("ix_memo_org_author", "organisation_id", "author_id", "id"),
    )


class MemoRouteRole(Base):
    """The roles on a memo's route snapshot, one row each, so "memos I may see" is an
    indexed join rather than a scan of JSON."""

    __tablename__ = "memo_route_role"

    memo_id: Mapped[int] = mapped_column(ForeignKey("memo.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(50), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))

    __table_args__ = (Index("ix_memo_route_role_lookup", "organisation_id", "role", "memo_id"),)


class Opinion(Base):
    """A decision written at one step of one round: an endorsement, a return, or the final
    signature or refusal. Name and position are copied as they were at that moment."""

    __tablename__ = "opinion"

    id: Mapped[int] = mapped_column(primary_key=True)
    memo_id: Mapped[int] = mapped_column(ForeignKey("memo.id"))
    round: Mapped[int]
    step: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_position: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str | None] = mapped_column(String(20), default=None)
    # Signing for someone else (issue: acting); all three or none.
    capacity: Mapped[str | None] = mapped_column(String(60), default=None)
    acting_for: Mapped[str | None] = mapped_column(String(200), default=None)
    order_ref: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # SHA-256 of the canonical content that was decided on (workflow.canonical).
    content_hash: Mapped[str] = mapped_column(String(64))

    memo: Mapped[Memo] = relationship(back_populates="opinions")

    __table_args__ = (
        UniqueConstraint("memo_id", "round", "step", name="uq_opinion_one_decision_per_step"),
        CheckConstraint(_in("action", OpinionAction), name="action_known"),
        CheckConstraint(
            "(action = 'sign' AND decision IN ('acknowledged', 'approved', 'agreed'))"
            " OR (action <> 'sign' AND decision IS NULL)",
            name="decision_only_when_signing",
        ),
        CheckConstraint("action = 'sign' OR length(text) > 0", name="opinion_text_required"),
        CheckConstraint(
            "(capacity IS NULL AND acting_for IS NULL AND order_ref IS NULL)"
            " OR (capacity IS NOT NULL AND acting_for IS NOT NULL AND order_ref IS NOT NULL)",
            name="acting_fields_together",
        ),
    )


class Blob(Base):
    """File contents stored once by their SHA-256 (content-addressed)."""

    __tablename__ = "blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Attachment(Base):
    """A file attached to a memo (สิ่งที่ส่งมาด้วย); the name is kept for display only."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    memo_id: Mapped[int] = mapped_column(ForeignKey("memo.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(150))
    size: Mapped[int]
    # Indexed: a removal asks whether other attachments share the contents (migration 0009).
    sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memo: Mapped[Memo] = relationship(back_populates="attachments")

    __table_args__ = (CheckConstraint("size >= 0", name="size_not_negative"),)
