"""The security log: logins, failed logins and refused actions, for the people who look
after the system. Separate from the audit chain, which records what happened to memos."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class SecurityEvent(Base):
    __tablename__ = "security_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # login, login_failed, logout, refused, token_refused, admin_access, ...
    kind: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(default=None)
    username: Mapped[str] = mapped_column(String(100), default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_security_event_at", "at"),)
