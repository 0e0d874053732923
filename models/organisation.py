"""An organisation (อปท.): its name, number prefix, display settings and approval route."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    short_name: Mapped[str] = mapped_column(String(100), default="")
    # The code before the slash of a document number, e.g. "พท 72001".
    number_prefix: Mapped[str] = mapped_column(String(50))
    # Print the document's own numbers in Thai digits (๐–๙); text people typed is never changed.
    thai_digits: Mapped[bool] = mapped_column(default=False)
    website: Mapped[str] = mapped_column(String(300), default="")
    # The approval route as data: [{"key", "role", "label", "title"}, ...]; see workflow.route.
    route: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The Garuda emblem printed at the top left of documents (PNG or JPEG); none by default.
    emblem_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"), default=None)
    emblem_media_type: Mapped[str | None] = mapped_column(String(30), default=None)
    # The last day (Asia/Bangkok) on which an authorisation not ended early is valid; None
    # when there is none. Kept by workflow.acting, so that on the usual day, when nobody
    # acts for anybody, inboxes, memo pages and decisions skip the authorisation query.
    acting_until: Mapped[date | None] = mapped_column(default=None)

    __table_args__ = (
        CheckConstraint("length(number_prefix) > 0", name="number_prefix_set"),
        CheckConstraint(
            "(emblem_sha256 IS NULL) = (emblem_media_type IS NULL)", name="emblem_complete"
        ),
    )
