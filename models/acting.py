"""Authorisations to act for someone else (ปฏิบัติราชการแทน, รักษาราชการแทน,
รักษาการในตำแหน่ง): who acts, for which role, in which capacity, on which order, when."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.user import User


class Capacity(enum.StrEnum):
    """The capacity, written in Thai exactly as it is printed under the position."""

    on_behalf = "ปฏิบัติราชการแทน"  # standing delegation; the holder is in post
    acting_head = "รักษาราชการแทน"  # the holder is absent or the post is vacant
    acting_in_position = "รักษาการในตำแหน่ง"  # the same, for other positions


class Authorisation(Base):
    __tablename__ = "acting_authorisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    acting_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # The route role acted for, e.g. "permanent_secretary".
    role: Mapped[str] = mapped_column(String(50))
    capacity: Mapped[str] = mapped_column(String(60))
    # The order it rests on, e.g. "คำสั่ง อบต.ควนขนุน ที่ 12/2565".
    order_ref: Mapped[str] = mapped_column(String(100))
    # Calendar days in Asia/Bangkok, both inclusive.
    valid_from: Mapped[date]
    valid_to: Mapped[date]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    acting_user: Mapped[User] = relationship(
        foreign_keys=[acting_user_id], lazy="joined", innerjoin=True
    )

    __table_args__ = (
        CheckConstraint("valid_from <= valid_to", name="period_in_order"),
        CheckConstraint(
            "capacity IN ('ปฏิบัติราชการแทน', 'รักษาราชการแทน', 'รักษาการในตำแหน่ง')",
            name="capacity_known",
        ),
        CheckConstraint("length(order_ref) > 0", name="order_required"),
        Index("ix_acting_authorisation_lookup", "organisation_id", "acting_user_id", "role"),
    )
