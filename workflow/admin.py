"""What an admin does to accounts and the organisation: add or edit a user, (de)activate,
reset a password, issue or revoke an API token, change the organisation's settings or its
route, and the reads the admin pages need.

Service functions like the verbs: they check the actor is an active admin of the
organisation concerned, change, append an audit event, flush, and never commit. Where
``actor`` may be ``None`` it is the command line: whoever runs it owns the installation,
and the event names the system as its actor.
"""

from __future__ import annotations

import hashlib
from typing import Any

import filetype
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ADMIN_ROLE, ApiToken, Blob, Organisation, User
from workflow import accounts, audit
from workflow.accounts import check_admin_of, end_sessions, hash_password, validate_password
from workflow.errors import NotFound, ValidationFailed
from workflow.route import Route
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


def organisation_events(
    session: Session,
    actor: User,
    organisation: Organisation,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[audit.EventCheck]:
    """The organisation's own audit events (no memo's), newest first, each checked."""
    check_admin_of(actor, organisation.id)
    return audit.organisation_timeline(session, organisation.id, before_seq=before_seq, limit=limit)


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


def _record_user_event(
    session: Session, actor: User | None, user: User, action: str, **details: Any
) -> None:
    """Append an event about ``user``'s account to their organisation's chain."""
    audit.append_event(
        session,
        organisation_id=user.organisation_id,
        actor=actor,
        action=action,
        details={"user_id": user.id, "username": user.username, **details},
    )


def _record_organisation_event(
    session: Session, actor: User | None, organisation: Organisation, action: str, **details: Any
) -> None:
    """Append an event about the organisation itself to its chain."""
    audit.append_event(
        session, organisation_id=organisation.id, actor=actor, action=action, details=details
    )


def add_user(
    session: Session,
    actor: User | None,
    organisation: Organisation,
    *,
    username: str,
    full_name: str,
    position: str,
    role: str,
    password: str,
    unit: str = "",
) -> User:
    """Add someone to the organisation (validated by ``accounts.add_user``)."""
    check_admin_of(actor, organisation.id)
    user = accounts.add_user(
        session, organisation, username, full_name, position, role, password, unit
    )
    _record_user_event(session, actor, user, "user_create", role=user.role)
    return user


def create_token(session: Session, actor: User | None, user: User, label: str = "") -> str:
    """A new API token for ``user``, returned to be shown once. Whoever holds it acts as
    ``user`` through the API, so its issue is an audit event (naming the token's row and
    label, never the token)."""
    check_admin_of(actor, user.organisation_id)
    token, row = accounts.issue_token(session, user, label)
    _record_user_event(session, actor, user, "token_create", token_id=row.id, label=label)
    return token


def revoke_token(session: Session, actor: User | None, user: User, token_id: int) -> None:
    """Revoke one of ``user``'s tokens (NotFound for anyone else's); revoking a revoked
    token changes nothing."""
    check_admin_of(actor, user.organisation_id)
    token = token_of(session, user, token_id)
    if token.revoked_at is not None:
        return
    accounts.revoke_token(session, token.id)
    _record_user_event(session, actor, user, "token_revoke", token_id=token.id)


def update_user(session: Session, actor: User, user: User, **fields: Any) -> list[str]:
    """Change a user's name, position, role or unit; return the names of what changed.
    An admin cannot take the admin role from themselves (nobody would be left to undo it)."""
    check_admin_of(actor, user.organisation_id)
    cleaned = _clean(fields, USER_FIELD_LIMITS, REQUIRED_USER_FIELDS)
    if user.id == actor.id and cleaned.get("role", ADMIN_ROLE) != ADMIN_ROLE:
        raise ValidationFailed({"role": "invalid"})
    changed = sorted(name for name, value in cleaned.items() if getattr(user, name) != value)
    for name in changed:
        setattr(user, name, cleaned[name])
    if changed:
        session.flush()
        _record_user_event(session, actor, user, "user_update", fields=changed)
    return changed


def set_active(session: Session, actor: User, user: User, active: bool) -> None:
    """Deactivate (or reactivate) an account; a deactivated user cannot sign in or use
    tokens, and everything they wrote stays. An admin cannot deactivate themselves.
    Deactivation also ends every browser session and revokes every API token, so
    reactivating the account brings back neither a session of the device that may have
    been the reason nor a token a script still holds; the event names the tokens revoked."""
    check_admin_of(actor, user.organisation_id)
    if user.id == actor.id and not active:
        raise ValidationFailed({"active": "invalid"})
    if user.active == active:
        return
    user.active = active
    if active:
        session.flush()
        _record_user_event(session, actor, user, "user_activate")
        return
    end_sessions(session, user)
    revoked = accounts.revoke_all_tokens(session, user)
    session.flush()
    _record_user_event(session, actor, user, "user_deactivate", tokens_revoked=revoked)


def reset_password(session: Session, actor: User, user: User, password: str) -> None:
    """Give a user a new password (the admin tells it to them; it is stored hashed)."""
    check_admin_of(actor, user.organisation_id)
    validate_password(password)
    user.password_hash = hash_password(password)
    end_sessions(session, user)
    session.flush()
    _record_user_event(session, actor, user, "password_reset")


def update_organisation(
    session: Session, actor: User, organisation: Organisation, thai_digits: bool, **fields: Any
) -> list[str]:
    """Change the organisation's name, short name, number prefix and digit setting.
    Numbers already issued keep the prefix they were printed with."""
    check_admin_of(actor, organisation.id)
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
        _record_organisation_event(
            session, actor, organisation, "organisation_change", fields=changed
        )
    return changed


def set_route(
    session: Session, actor: User | None, organisation: Organisation, route: Route
) -> None:
    """Replace the organisation's route; memos already submitted keep their snapshot."""
    check_admin_of(actor, organisation.id)
    organisation.route = route.as_data()
    session.flush()
    steps = [step.key for step in route.steps]
    _record_organisation_event(session, actor, organisation, "route_change", steps=steps)


EMBLEM_TYPES = frozenset({"image/png", "image/jpeg"})
EMBLEM_LIMIT_BYTES = 1024 * 1024


def set_emblem(
    session: Session, actor: User, organisation: Organisation, data: bytes | None
) -> None:
    """Set (or with ``None`` remove) the Garuda emblem printed at the top left of the
    organisation's documents: a PNG or JPEG image of at most 1 MB, stored by hash."""
    check_admin_of(actor, organisation.id)
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
    _record_organisation_event(
        session, actor, organisation, "organisation_change", fields=["emblem"], emblem_sha256=digest
    )


def emblem_of(session: Session, organisation: Organisation) -> tuple[bytes, str] | None:
    """The emblem's bytes and media type, or None when the organisation has none."""
    if organisation.emblem_sha256 is None or organisation.emblem_media_type is None:
        return None
    blob = session.get(Blob, organisation.emblem_sha256)
    return (blob.data, organisation.emblem_media_type) if blob is not None else None
