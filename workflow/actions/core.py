"""What every verb shares: loading and locking the memo, and the one way a verb writes.

A verb writes a memo's columns with ``write_memo`` (an UPDATE compiled once, then set on
the held memo as stored), its version and time with ``bumped`` or ``moved``, new rows
with ``insert_as_stored``, and its audit event with ``record``.

The write path reads and writes rows, not ORM queries: the locked memo, its attachments
and opinions are read by statements compiled once per dialect and run on the
transaction's driver connection (workflow.prepared), and put in the session as
stored objects (``as_stored``) — what the verbs, the permissions and the webapp read from
them is unchanged, and nothing is left for a flush to write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state, manager_of_class, set_committed_value

from models import Attachment, Memo, Opinion, User
from workflow import audit, clock
from workflow.errors import InvalidTransition, NotAllowed, NotFound, StaleVersion, ValidationFailed
from workflow.machine import EDITABLE_STATES
from workflow.permissions import can_see, check_author
from workflow.prepared import Prepared
from workflow.validation import check_text, normalise_newlines

# An opinion's or a reason's limit in characters.
OPINION_LIMIT = 10_000

# The commonest writes (a new memo; a submission's columns, register entry and route
# roles; a decision's opinion and memo columns) are statements compiled once instead of
# a unit-of-work flush, which was the largest part of a decision's CPU time
# (benchmarks/RESULTS.md). The session is then told what was stored, through
# SQLAlchemy's public API, so the memo and its opinions read back as written.
MEMO_TABLE = cast(Table, Memo.__table__)
_UPDATE_MEMO = Prepared(
    update(MEMO_TABLE).where(MEMO_TABLE.c.id == bindparam("locked_memo_id")),
    by_keys=True,
    writing=True,
)


def insert_as_stored(
    session: Session,
    statement: Prepared,
    kind: type[Any],
    values: dict[str, Any],
    row: dict[str, Any] | None = None,
) -> Any:
    """Insert a ``kind`` row of ``values`` (every column but the id) with ``statement``
    (an INSERT ... RETURNING id) and return it as a stored object in the session: its id
    set, nothing left for a flush to write. ``row``: what to insert, when that is not all
    of ``values`` (a column left out takes its SQL default)."""
    stored_id = statement.one(session, values if row is None else row)[0]
    return as_stored(session, kind, {**values, "id": stored_id})


def as_stored(session: Session, kind: type[Any], values: dict[str, Any]) -> Any:
    """The ``kind`` object of a row just read (``values``: its columns by key), in the
    session as stored: the one the session holds already, refreshed (as a query with
    ``populate_existing`` would), or a new one put there without a query."""
    held = session.identity_map.get((kind, (values["id"],), None))
    if held is not None:
        for name, value in values.items():
            set_committed_value(held, name, value)
        # Its relationships are read afresh when next used, as populate_existing does.
        state = instance_state(held)
        loaded = [rel.key for rel in state.mapper.relationships if rel.key in state.dict]
        if loaded:
            session.expire(held, loaded)
        return held
    instance = manager_of_class(kind).new_instance()
    instance_state(instance).dict.update(values)
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


# --- loading --------------------------------------------------------------------------


def get_memo(session: Session, memo_id: int, actor: User) -> Memo:
    """The memo, if ``actor`` may see it; NotFound otherwise (the two look the same)."""
    memo = session.get(Memo, memo_id)
    if memo is None or not can_see(actor, memo):
        raise NotFound("memo not found", memo_id=memo_id)
    return memo


def open_as_admin(session: Session, memo_id: int, admin: User, reason: str) -> Memo:
    """An admin's explicit, audited access to a memo hidden from admins (a secret memo).
    The reason is required and lands in the audit chain; the memo is not changed."""
    if not admin.is_admin or not admin.active:
        raise NotAllowed("only an admin may open a memo this way", action="admin_open")
    if problem := check_text(reason, OPINION_LIMIT, required=True):
        raise ValidationFailed({"reason": problem})
    memo = session.get(Memo, memo_id)
    if memo is None or memo.organisation_id != admin.organisation_id:
        raise NotFound("memo not found", memo_id=memo_id)
    record(
        session,
        memo,
        admin,
        "admin_open",
        (None, None),
        opinion=normalise_newlines(reason),
        details={"secrecy": memo.secrecy},
    )
    return memo


# Every write starts here, so the statement is compiled once: the memo's columns only.
# The organisation and the author are many-to-one: a lazy load finds them in the session
# (the actor's organisation always is; the author is the actor for author actions)
# without a query, instead of joining and re-populating both on every lock.
_MEMO_COLUMNS = tuple(MEMO_TABLE.c.keys())
_LOCK_MEMO = Prepared(
    select(*MEMO_TABLE.c).where(MEMO_TABLE.c.id == bindparam("memo_id")).with_for_update(),
    writing=True,
)


def lock_memo(session: Session, memo_id: int, actor: User) -> Memo:
    """The memo, locked for writing until the transaction ends (SELECT ... FOR UPDATE on
    PostgreSQL; on SQLite the transaction already holds the write lock)."""
    row = _LOCK_MEMO.first(session, {"memo_id": memo_id})
    if row is None:
        raise NotFound("memo not found", memo_id=memo_id)
    memo: Memo = as_stored(session, Memo, dict(zip(_MEMO_COLUMNS, row, strict=True)))
    if not can_see(actor, memo):
        raise NotFound("memo not found", memo_id=memo_id)
    return memo


# What a decision is bound to: the memo's attachments and, for the check that the step is
# still open and for the decision hash, its opinions. Statements compiled once: the
# relationships' lazy loads built their statement and its cache key on every decision
# (0.7 ms of CPU for the two against 0.3 ms, benchmarks/RESULTS.md).
def _rows_of(table: Table) -> Prepared:
    return Prepared(
        select(*table.c).where(table.c.memo_id == bindparam("memo_id")).order_by(table.c.id),
        writing=True,
    )


_OPINIONS_OF = _rows_of(cast(Table, Opinion.__table__))
_ATTACHMENTS_OF = _rows_of(cast(Table, Attachment.__table__))
_OPINION_COLUMNS = tuple(cast(Table, Opinion.__table__).c.keys())
_ATTACHMENT_COLUMNS = tuple(cast(Table, Attachment.__table__).c.keys())


def load_contents(session: Session, memo: Memo, *, opinions: bool = True) -> None:
    """Load the locked memo's attachments (and opinions) from the database into it."""
    found = {"memo_id": memo.id}
    attachments = [
        as_stored(session, Attachment, dict(zip(_ATTACHMENT_COLUMNS, row, strict=True)))
        for row in _ATTACHMENTS_OF.rows(session, found)
    ]
    set_committed_value(memo, "attachments", attachments)
    if opinions:
        stored = [
            as_stored(session, Opinion, dict(zip(_OPINION_COLUMNS, row, strict=True)))
            for row in _OPINIONS_OF.rows(session, found)
        ]
        set_committed_value(memo, "opinions", stored)


def check_version(memo: Memo, version: int | None) -> None:
    if version is not None and version != memo.version:
        raise StaleVersion(
            f"memo {memo.id} is at version {memo.version}, not {version}",
            current_version=memo.version,
            state=memo.state,
        )


def lock_for_author_change(
    session: Session, memo_id: int, actor: User, version: int | None, action: str
) -> Memo:
    """The memo, locked, if its author may change it now (draft or returned)."""
    memo = lock_memo(session, memo_id, actor)
    check_version(memo, version)
    check_author(memo, actor, action)
    if memo.state not in EDITABLE_STATES:
        raise InvalidTransition(f"{action} needs a draft or returned memo", state=memo.state)
    return memo


# --- writing ------------------------------------------------------------------------------


def bumped(memo: Memo, now: datetime | None = None) -> dict[str, Any]:
    """The column changes of any change to a memo: the next version, the time."""
    return {"version": memo.version + 1, "updated_at": now or clock.utcnow_naive()}


def moved(memo: Memo, after: str, pending_role: str | None, now: datetime) -> dict[str, Any]:
    """The column changes of a move to ``after`` (``pending_role``: the role that acts
    there), for ``write_memo``."""
    return {"state": after, "pending_role": pending_role, **bumped(memo, now)}


def write_memo(session: Session, memo: Memo, changes: dict[str, Any]) -> None:
    """Store ``changes`` to the locked memo's columns and set them on ``memo`` as stored:
    the one way a verb writes a memo."""
    _UPDATE_MEMO.rows(session, {"locked_memo_id": memo.id, **changes})
    for name, value in changes.items():
        set_committed_value(memo, name, value)


def record(
    session: Session,
    memo: Memo,
    actor: User,
    action: str,
    moved: tuple[str | None, str | None],
    opinion: str | None = None,
    details: dict[str, Any] | None = None,
    content_hash: str | None = None,
) -> None:
    """Append the change's event to the organisation's audit chain, after flushing what
    the session holds unwritten, if anything (``content_hash``: the memo's document hash,
    when the caller has it already)."""
    audit.append_event(
        session,
        organisation_id=memo.organisation_id,
        actor=actor,
        action=action,
        memo=memo,
        from_state=moved[0],
        to_state=moved[1],
        opinion=opinion,
        details=details,
        content_hash=content_hash,
    )
