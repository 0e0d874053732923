"""Organisations, users, passwords and API tokens.

Passwords are hashed with Argon2 (argon2-cffi). ``MEMOFLOW_PASSWORD_HASH=fast`` selects a
deliberately cheap parameter set for test suites; never use it in production.
Tokens are 256 random bits shown once; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any, NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state, manager_of_class, set_committed_value
from sqlalchemy.orm.util import identity_key

from config import password_hash_mode
from models import ADMIN_ROLE, ApiToken, Organisation, SignIn, User
from models.user import new_session_nonce
from workflow import audit, clock
from workflow.errors import NotAllowed, NotFound, ValidationFailed
from workflow.prepared import Prepared, Row
from workflow.route import Route, default_route
from workflow.validation import check_text


@cache
def _hasher(mode: str) -> PasswordHasher:
    if mode == "fast":
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()


def password_hasher() -> PasswordHasher:
    return _hasher(password_hash_mode())


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return password_hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


MIN_PASSWORD_LENGTH = 8


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({"password": f"too_short:{MIN_PASSWORD_LENGTH}"})


def create_organisation(
    session: Session,
    name: str,
    number_prefix: str,
    short_name: str = "",
    route: Route | None = None,
    thai_digits: bool = False,
    website: str = "",
) -> Organisation:
    organisation = Organisation(
        name=name,
        short_name=short_name,
        number_prefix=number_prefix,
        thai_digits=thai_digits,
        website=website,
        route=(route or default_route(name)).as_data(),
    )
    session.add(organisation)
    session.flush()
    audit.start_chain(session, organisation.id)
    return organisation


def only_organisation(session: Session, name: str | None = None) -> Organisation:
    """The organisation called ``name``, or the only one when no name is given."""
    query = select(Organisation).order_by(Organisation.id)
    if name:
        query = query.where((Organisation.name == name) | (Organisation.short_name == name))
    organisations = session.execute(query.limit(2)).scalars().all()
    if not organisations:
        raise NotFound(f"no organisation {name or ''}".strip())
    if len(organisations) > 1 and not name:
        raise ValidationFailed({"org": "ambiguous"})
    return organisations[0]


def add_user(
    session: Session,
    organisation: Organisation,
    username: str,
    full_name: str,
    position: str,
    role: str,
    password: str,
    unit: str = "",
) -> User:
    errors: dict[str, str] = {}
    for field_name, value, limit in (
        ("username", username, 100),
        ("full_name", full_name, 200),
        ("position", position, 200),
        ("role", role, 50),
    ):
        problem = check_text(value, limit, required=True)
        if problem:
            errors[field_name] = problem
    if unit and (problem := check_text(unit, 300)):
        errors["unit"] = problem
    if errors:
        raise ValidationFailed(errors)
    validate_password(password)
    if session.execute(select(User.id).where(User.username == username)).first():
        raise ValidationFailed({"username": "taken"})
    user = User(
        organisation_id=organisation.id,
        organisation=organisation,
        username=username,
        full_name=full_name,
        position=position,
        role=role,
        unit=unit,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    return user


# A user by id (``load_user``), or with a live sign-in (``signed_in_user``), as every
# page and verb needs them: one statement each, compiled once (workflow.prepared), reads
# the user and their organisation, and the two are put in the session as the stored
# objects they are. Through the ORM's query machinery (a select built once) the user
# loader alone was about a tenth of the inbox page's instructions (issue 19); ``Session.get``
# builds its statement on every call as well.
def load_user(session: Session, user_id: int) -> User | None:
    """The user with this id (active or not) with their organisation, or None."""
    held = session.identity_map.get(identity_key(User, user_id))
    if held is not None:
        user: User = held
        return user
    statements = _user_statements()
    return _user_of(session, statements, statements.by_id.first(session, {"user_id": user_id}))


def find_user(session: Session, username: str) -> User | None:
    if "\x00" in username:  # no username holds one; PostgreSQL refuses it in a parameter
        return None
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


@dataclass(frozen=True)
class LoginOutcome:
    """The result of a sign-in attempt. ``reason`` is "ok", "unknown" (no such user or a
    wrong password: the two are not told apart) or "inactive" (right password, deactivated
    account: said only to someone who proved who they are)."""

    user: User | None
    reason: str


def check_login(session: Session, username: str, password: str) -> LoginOutcome:
    user = find_user(session, username) if username else None
    if user is None:
        # Spend the same time as a real check so usernames cannot be probed by timing.
        password_hasher().hash(password)
        return LoginOutcome(None, "unknown")
    if not check_password(user, password):
        return LoginOutcome(None, "unknown")
    if not user.active:
        return LoginOutcome(None, "inactive")
    return LoginOutcome(user, "ok")


def start_sign_in(session: Session, user: User, lifetime: timedelta) -> str:
    """Record a new sign-in of ``user`` and return the key its browser keeps (in the signed
    session cookie); only the key's SHA-256 is stored. The user's sign-ins older than
    ``lifetime`` (the web layer's session lifetime: their cookies have expired) go."""
    now = clock.utcnow_naive()
    session.execute(
        delete(SignIn).where(SignIn.user_id == user.id, SignIn.created_at < now - lifetime)
    )
    key = secrets.token_urlsafe(32)
    session.add(SignIn(user_id=user.id, key_sha256=token_digest(key), created_at=now))
    session.flush()
    return key


@dataclass(frozen=True)
class _UserStatements:
    by_id: Prepared
    signed_in: Prepared
    user_keys: list[str]  # the attributes the columns fill: the user's, then the organisation's
    organisation_keys: list[str]


@cache
def _user_statements() -> _UserStatements:
    user_columns = [(a.key, a.columns[0]) for a in inspect(User).column_attrs]
    organisation_columns = [(a.key, a.columns[0]) for a in inspect(Organisation).column_attrs]
    with_organisation = (
        select(*[c for _, c in user_columns], *[c for _, c in organisation_columns])
        .select_from(User)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(User.id == bindparam("user_id"))
    )
    signed_in = with_organisation.join(SignIn, SignIn.user_id == User.id).where(
        SignIn.key_sha256 == bindparam("key_sha256"), SignIn.created_at >= bindparam("oldest")
    )
    return _UserStatements(
        by_id=Prepared(with_organisation),
        signed_in=Prepared(signed_in),
        user_keys=[key for key, _ in user_columns],
        organisation_keys=[key for key, _ in organisation_columns],
    )


def _stored(session: Session, kind: type[Any], values: dict[str, Any]) -> Any:
    """The ``kind`` object of a row just read, as a query would give it: the one the
    session holds already, or a new one put there as stored (nothing for a flush)."""
    held = session.identity_map.get(identity_key(kind, values["id"]))
    if held is not None:
        return held
    instance = manager_of_class(kind).new_instance()
    instance_state(instance).dict.update(values)
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


def _user_of(session: Session, statements: _UserStatements, row: Row | None) -> User | None:
    """The user of a row of ``statements`` (with their organisation), or None."""
    if row is None:
        return None
    count = len(statements.user_keys)
    organisation_values = dict(zip(statements.organisation_keys, row[count:], strict=True))
    organisation = _stored(session, Organisation, organisation_values)
    user: User = _stored(session, User, dict(zip(statements.user_keys, row[:count], strict=True)))
    if "organisation" not in instance_state(user).dict:
        set_committed_value(user, "organisation", organisation)
    return user


def signed_in_user(session: Session, user_id: int, key: str, lifetime: timedelta) -> User | None:
    """The user (active or not) of a sign-in started less than ``lifetime`` ago and not
    ended, or None."""
    statements = _user_statements()
    found = {
        "user_id": user_id,
        "key_sha256": token_digest(key),
        "oldest": clock.utcnow_naive() - lifetime,
    }
    return _user_of(session, statements, statements.signed_in.first(session, found))


def end_sign_in(session: Session, user: User, key: str) -> None:
    """Sign this browser out: its sign-in goes, and with it every copy of its cookie."""
    session.execute(
        delete(SignIn).where(SignIn.user_id == user.id, SignIn.key_sha256 == token_digest(key))
    )


def end_sessions(session: Session, user: User) -> None:
    """Sign ``user`` out on every device (on request, at a password reset): every sign-in
    goes, and the nonce kept in the session cookies is replaced as well."""
    session.execute(delete(SignIn).where(SignIn.user_id == user.id))
    user.session_nonce = new_session_nonce()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User, label: str = "") -> tuple[str, ApiToken]:
    """A new bearer token for ``user`` and its stored row (which holds only its SHA-256);
    the caller shows the token once. The admin pages and the command line issue tokens
    through ``workflow.admin.create_token``, which checks who asks and audits it."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_sha256=token_digest(token), label=label)
    session.add(row)
    session.flush()
    return token, row


def create_token(session: Session, user: User, label: str = "") -> str:
    """A new bearer token for ``user``, unaudited: for seeding, tests and benchmarks."""
    return issue_token(session, user, label)[0]


# Every API request starts here: one statement, compiled once, finds who the token is of.
_READER_OF_TOKEN = Prepared(
    select(User.id, User.organisation_id, User.role, User.active, Organisation.acting_until)
    .select_from(ApiToken)
    .join(User, User.id == ApiToken.user_id)
    .join(Organisation, Organisation.id == User.organisation_id)
    .where(ApiToken.token_sha256 == bindparam("digest"), ApiToken.revoked_at.is_(None))
)


class Reader(NamedTuple):
    """Who sends an API request, as much as the read path needs of them: a row, not a
    ``User`` (loading the user and their organisation as ORM objects was a fifth of an
    API inbox request's instructions, issue 19). ``load_user(session, reader.id)`` gives
    the user for a verb."""

    id: int
    organisation_id: int
    role: str
    # The organisation's: no authorisation to act for someone is in force after this day
    # (None: none at all), so an inbox on any later day needs no authorisation query.
    acting_until: date | None

    @property
    def active(self) -> bool:
        return True  # only an active user's token finds a reader

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN_ROLE


def reader_for_token(session: Session, token: str) -> Reader | None:
    """Who a valid, unrevoked token of an active user belongs to; None otherwise."""
    row = _READER_OF_TOKEN.first(session, {"digest": token_digest(token)})
    if row is None or not row[3]:
        return None
    return Reader(row[0], row[1], row[2], row[4])


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a valid, unrevoked token belongs to; None otherwise."""
    reader = reader_for_token(session, token)
    return load_user(session, reader.id) if reader is not None else None


def revoke_token(session: Session, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound("no such token")
    row.revoked_at = clock.utcnow_naive()


def revoke_all_tokens(session: Session, user: User) -> list[int]:
    """Revoke every live token of ``user``; the ids of those revoked, in order."""
    live = session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id)
    ).all()
    now = clock.utcnow_naive()
    for row in live:
        row.revoked_at = now
    return [row.id for row in live]


def is_admin(user: User) -> bool:
    return user.role == ADMIN_ROLE


def check_admin_of(actor: User | None, organisation_id: int, action: str = "admin") -> None:
    """Refuse anyone but an active admin of this organisation (``None``: the command line,
    whose user owns the installation). The admin pages only ever pass the admin's own
    organisation; the check is here so that no other caller can do otherwise."""
    if actor is None:
        return
    if not actor.active or not is_admin(actor) or actor.organisation_id != organisation_id:
        raise NotAllowed("only an admin of the organisation manages it", action=action)
