"""The first answer to a request that carried an idempotency key, kept so a retry of the
same request gets the same answer instead of acting twice.

A row is written in the transaction of the action it answers (webapp's commit point),
so it exists exactly when the action was committed. Keys are per user: two people may
happen to choose the same key. Rows older than ``RETENTION`` may be deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

# How long a stored answer is kept at least (Stripe's API and the IETF draft: 24 hours).
RETENTION = timedelta(hours=24)
# Keys are the client's (a UUID is 36 characters); longer ones are refused as invalid.
KEY_LIMIT = 255


class IdempotentRequest(Base):
    __tablename__ = "idempotent_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY_LIMIT))
    # SHA-256 of what the request asked (method, path, body): the same key with another
    # request is refused rather than answered with the first one's result.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_idempotent_request_user_id_key"),
        Index("ix_idempotent_request_created_at", "created_at"),
    )
