"""The register of outgoing documents (ทะเบียนหนังสือส่ง): one counter per organisation
and calendar year, and one entry per number ever issued (a number is never reused)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class RegisterStatus(enum.StrEnum):
    issued = "issued"
    cancelled = "cancelled"


class RegisterCounter(Base):
    __tablename__ = "register_counter"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)  # calendar year, CE, Asia/Bangkok
    last_number: Mapped[int] = mapped_column(default=0)

    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number_not_negative"),)


class RegisterEntry(Base):
    __tablename__ = "register_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    year: Mapped[int]
    sequence: Mapped[int]
    memo_id: Mapped[int] = mapped_column(ForeignKey("memo.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=RegisterStatus.issued.value)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("organisation_id", "year", "sequence", name="uq_register_number"),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        CheckConstraint("status IN ('issued', 'cancelled')", name="status_known"),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_has_time"
        ),
    )
