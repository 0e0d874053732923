"""People who use memoflow, their browsers' sign-ins and the API tokens they hold."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.organisation import Organisation


def new_session_nonce() -> str:
    return secrets.token_hex(16)


ADMIN_ROLE = "admin"
OFFICER_ROLE = "officer"


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    # Full name with title, as printed: "นางสาวภรณ์พรรณ บุญเผือก".
    full_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200))
    # "officer", "admin", or the role of a route step such as "head_of_office".
    role: Mapped[str] = mapped_column(String(50), index=True)
    unit: Mapped[str] = mapped_column(String(300), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of the id kept in the browser's session cookie; replacing it (signing out on
    # every device, a password reset) makes every copy of an older cookie worthless.
    session_nonce: Mapped[str] = mapped_column(String(32), default=new_session_nonce)

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        CheckConstraint("length(username) > 0", name="username_set"),
        CheckConstraint("length(role) > 0", name="role_set"),
    )

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN_ROLE

    # Flask-Login reads these; they are plain properties so models stay Flask-free.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """What Flask-Login keeps in the session cookie: the id and the current nonce."""
        return f"{self.id}:{self.session_nonce}"


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, never the token itself."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class SignIn(Base):
    """One browser's sign-in. Its session cookie keeps a random key; only the key's SHA-256
    is stored. Signing out deletes the row, which makes every copy of that browser's cookie
    worthless while the user's other browsers stay signed in."""

    __tablename__ = "sign_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
