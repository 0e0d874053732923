"""What an admin does to accounts and the organisation: edit a user, (de)activate,
reset a password, change the organisation's settings, and the reads the admin pages need.

Service functions like the verbs: they check the actor is an admin, change, append an
audit event, flush, and never commit.
"""

from __future__ import annotations

import hashlib
from typing import Any

import filetype
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ADMIN_ROLE, ApiToken, Blob, Organisation, User
from workflow import audit
from workflow.accounts import end_sessions, hash_password, validate_password
from workflow.errors import NotAllowed, NotFound, ValidationFailed
from workflow.validation import check_text

USER_FIELD_LIMITS = {"full_name": 200, "position": 200, "role": 50, "unit": 300}
REQUIRED_USER_FIELDS = ("full_name", "position", "role")
ORGANISATION_LIMITS = {"name": 300, "short_name": 100, "number_prefix": 50}


def users_of(session: Session, organisation: Organisation) -> list[User]:
    return list(
        session.execute(
            select(User).where(User.organisation_id == organisation.id).order_by(User.id)
        ).scalars()
    )


def user_in(session: Session, organisation: Organisation, user_id: int) -> User:
    """A user of this organisation; NotFound for anyone else's."""
    user = session.get(User, user_id)
    if user is None or user.organisation_id != organisation.id:
        raise NotFound("no such user", user_id=user_id)
    return user


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.execute(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        ).scalars()
    )


def token_of(session: Session, user: User, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("no such token", token_id=token_id)
    return token


def _check_admin(actor: User) -> None:
    if not actor.active or actor.role != ADMIN_ROLE:
        raise NotAllowed("only an admin manages accounts", action="admin")


def _clean(
    values: dict[str, Any], limits: dict[str, int], required: tuple[str, ...]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    for name, limit in limits.items():
        if name not in values:
            continue
        value = values[name].strip() if isinstance(values[name], str) else values[name]
        if problem := check_text(value, limit, required=name in required):
            errors[name] = problem
        else:
            cleaned[name] = value
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def update_user(session: Session, actor: User, user: User, **fields: Any) -> list[str]:
    """Change a user's name, position, role or unit; return the names of what changed.
    An admin cannot take the admin role from themselves (nobody would be left to undo it)."""
    _check_admin(actor)
    cleaned = _clean(fields, USER_FIELD_LIMITS, REQUIRED_USER_FIELDS)
    if user.id == actor.id and cleaned.get("role", ADMIN_ROLE) != ADMIN_ROLE:
        raise ValidationFailed({"role": "invalid"})
    changed = sorted(name for name, value in cleaned.items() if getattr(user, name) != value)
    for name in changed:
        setattr(user, name, cleaned[name])
    if changed:
        session.flush()
        audit.append_event(
            session,
            organisation_id=user.organisation_id,
            actor=actor,
            action="user_update",
            details={"user_id": user.id, "username": user.username, "fields": changed},
        )
    return changed


def set_active(session: Session, actor: User, user: User, active: bool) -> None:
    """Deactivate (or reactivate) an account; a deactivated user cannot sign in or use
    tokens, and everything they wrote stays. An admin cannot deactivate themselves."""
    _check_admin(actor)
    if user.id == actor.id and not active:
        raise ValidationFailed({"active": "invalid"})
    if user.active == active:
        return
    user.active = active
    session.flush()
    audit.append_event(
        session,
        organisation_id=user.organisation_id,
        actor=actor,
        action="user_activate" if active else "user_deactivate",
        details={"user_id": user.id, "username": user.username},
    )


def reset_password(session: Session, actor: User, user: User, password: str) -> None:
    """Give a user a new password (the admin tells it to them; it is stored hashed)."""
    _check_admin(actor)
    validate_password(password)
    user.password_hash = hash_password(password)
    end_sessions(user)
    session.flush()
    audit.append_event(
        session,
        organisation_id=user.organisation_id,
        actor=actor,
        action="password_reset",
        details={"user_id": user.id, "username": user.username},
    )


def update_organisation(
    session: Session, actor: User, organisation: Organisation, thai_digits: bool, **fields: Any
) -> list[str]:
    """Change the organisation's name, short name, number prefix and digit setting.
    Numbers already issued keep the prefix they were printed with."""
    _check_admin(actor)
    cleaned: dict[str, Any] = _clean(fields, ORGANISATION_LIMITS, ("name", "number_prefix"))
    if "name" in cleaned and cleaned["name"] != organisation.name:
        taken = session.execute(
            select(Organisation.id).where(
                Organisation.name == cleaned["name"], Organisation.id != organisation.id
            )
        ).first()
        if taken:
            raise ValidationFailed({"name": "taken"})
    cleaned["thai_digits"] = thai_digits
    changed = sorted(
        name for name, value in cleaned.items() if getattr(organisation, name) != value
    )
    for name in changed:
        setattr(organisation, name, cleaned[name])
    if changed:
        session.flush()
        audit.append_event(
            session,
            organisation_id=organisation.id,
            actor=actor,
            action="organisation_change",
            details={"fields": changed},
        )
    return changed


EMBLEM_TYPES = frozenset({"image/png", "image/jpeg"})
EMBLEM_LIMIT_BYTES = 1024 * 1024


def set_emblem(
    session: Session, actor: User, organisation: Organisation, data: bytes | None
) -> None:
    """Set (or with ``None`` remove) the Garuda emblem printed at the top left of the
    organisation's documents: a PNG or JPEG image of at most 1 MB, stored by hash."""
    _check_admin(actor)
    media_type: str | None = None
    digest: str | None = None
    if data is not None:
        detected = filetype.guess(data)
        media_type = detected.mime if detected is not None else None
        if media_type not in EMBLEM_TYPES:
            raise ValidationFailed({"emblem": "choice:PNG,JPEG"})
        if len(data) > EMBLEM_LIMIT_BYTES:
            raise ValidationFailed({"emblem": "too_large"})
        digest = hashlib.sha256(data).hexdigest()
        if session.get(Blob, digest) is None:
            session.add(Blob(sha256=digest, size=len(data), data=data))
    if organisation.emblem_sha256 == digest:
        return
    organisation.emblem_sha256 = digest
    organisation.emblem_media_type = media_type
    session.flush()
    audit.append_event(
        session,
        organisation_id=organisation.id,
        actor=actor,
        action="organisation_change",
        details={"fields": ["emblem"], "emblem_sha256": digest},
    )


def emblem_of(session: Session, organisation: Organisation) -> tuple[bytes, str] | None:
    """The emblem's bytes and media type, or None when the organisation has none."""
    if organisation.emblem_sha256 is None or organisation.emblem_media_type is None:
        return None
    blob = session.get(Blob, organisation.emblem_sha256)
    return (blob.data, organisation.emblem_media_type) if blob is not None else None
