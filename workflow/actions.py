"""The verb functions: memoflow's service API.

Each verb loads the memo with a write lock, checks the version the actor saw, checks the
actor may act, fires the trigger on the route's machine, writes the opinion and the audit
event, and flushes. None of them commits: the caller owns the transaction, so the state,
the opinion, the register entry and the audit event commit together or not at all.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Column, ColumnDefault, Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    Attachment,
    Blob,
    Decision,
    Memo,
    MemoRouteRole,
    Opinion,
    Secrecy,
    Urgency,
    User,
)
from models.db import writing_connection
from workflow import audit, clock, register
from workflow.canonical import sha256_of
from workflow.content import decision_hash, memo_document
from workflow.errors import (
    AlreadyDecided,
    InvalidTransition,
    NotAllowed,
    NotFound,
    StaleVersion,
    ValidationFailed,
)
from workflow.files import attachment_media_type
from workflow.machine import EDITABLE_STATES, fire
from workflow.permissions import (
    can_create_memo,
    can_see,
    check_author,
    check_step_actor,
    memo_route,
    organisation_route,
)
from workflow.route import Route
from workflow.validation import check_text, normalise_newlines

# Field limits in characters. A memo is one to a few pages; these leave ample room.
FIELD_LIMITS = {
    "unit": 300,
    "subject": 1000,
    "to": 300,
    "background": 50_000,
    "facts": 50_000,
    "proposal": 50_000,
}
OPINION_LIMIT = 10_000
TEXT_FIELDS = tuple(FIELD_LIMITS)
REQUIRED_FOR_DRAFT = ("subject", "to")
REQUIRED_FOR_SUBMIT = ("unit", "subject", "to", "facts", "proposal")
CHOICE_FIELDS: dict[str, tuple[str, ...]] = {
    "urgency": tuple(u.value for u in Urgency),
    "secrecy": tuple(s.value for s in Secrecy),
}
EDITABLE_FIELDS = TEXT_FIELDS + tuple(CHOICE_FIELDS)
FILENAME_LIMIT = 255


# The commonest writes (a new memo; a submission's columns, register entry and route
# roles; a decision's opinion and memo columns) are Core statements built once instead
# of a unit-of-work flush, which was the largest part of a decision's CPU time
# (benchmarks/RESULTS.md). The session is then told what was stored, through
# SQLAlchemy's public API, so the memo and its opinions read back as written.
_MEMO = cast(Table, Memo.__table__)
_OPINION = cast(Table, Opinion.__table__)
_UPDATE_MEMO = update(_MEMO).where(_MEMO.c.id == bindparam("locked_memo_id"))
_INSERT_OPINION = insert(_OPINION).returning(_OPINION.c.id)
_INSERT_ROUTE_ROLE = insert(cast(Table, MemoRouteRole.__table__))
_INSERT_MEMO = insert(_MEMO).returning(_MEMO.c.id)


def _insert_as_stored(
    session: Session, statement: Any, instance: Any, row: dict[str, Any] | None = None
) -> None:
    """Insert ``instance``'s values with ``statement`` (an INSERT ... RETURNING id) and add
    it to the session as a stored object: its id set, nothing left for a flush to write.
    ``row`` is what to insert when the caller has it already (every column but the id)."""
    if row is None:
        row = {column.key: getattr(instance, column.key) for column in statement.table.c}
        row.pop("id")
    instance.id = writing_connection(session).execute(statement, row).scalar_one()
    make_transient_to_detached(instance)
    session.add(instance)


def _scalar_default(column: Column[Any]) -> Any:
    default = column.default
    return default.arg if isinstance(default, ColumnDefault) and default.is_scalar else None


# A new memo's columns before its author's fields: the columns' defaults.
_NEW_MEMO: dict[str, Any] = {
    column.key: _scalar_default(column) for column in _MEMO.c if column.key != "id"
}


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
    _record(
        session,
        memo,
        admin,
        "admin_open",
        (None, None),
        opinion=normalise_newlines(reason),
        details={"secrecy": memo.secrecy},
    )
    return memo


# Every write starts here, so the statement is built once. The organisation and the
# author are many-to-one: a lazy load finds them in the session (the actor's organisation
# always is; the author is the actor for author actions) without a query, instead of
# joining and re-populating both on every lock.
_LOCK_MEMO = (
    select(Memo)
    .where(Memo.id == bindparam("memo_id"))
    .with_for_update(of=Memo)
    .options(lazyload(Memo.organisation), lazyload(Memo.author))
    .execution_options(populate_existing=True)
)


def lock_memo(session: Session, memo_id: int, actor: User) -> Memo:
    """The memo, locked for writing until the transaction ends (SELECT ... FOR UPDATE on
    PostgreSQL; on SQLite the transaction already holds the write lock)."""
    memo = session.execute(_LOCK_MEMO, {"memo_id": memo_id}).scalar_one_or_none()
    if memo is None or not can_see(actor, memo):
        raise NotFound("memo not found", memo_id=memo_id)
    return memo


# What a decision is bound to: the memo's attachments and, for the check that the step is
# still open and for the decision hash, its opinions. Statements built once: the
# relationships' lazy loads built their statement and its cache key on every decision
# (0.7 ms of CPU for the two against 0.3 ms, benchmarks/RESULTS.md).
_OPINIONS_OF = select(Opinion).where(Opinion.memo_id == bindparam("memo_id")).order_by(Opinion.id)
_ATTACHMENTS_OF = (
    select(Attachment).where(Attachment.memo_id == bindparam("memo_id")).order_by(Attachment.id)
)


def _load_contents(session: Session, memo: Memo, *, opinions: bool = True) -> None:
    """Load the locked memo's attachments (and opinions) from the database into it."""
    found = {"memo_id": memo.id}
    set_committed_value(memo, "attachments", session.scalars(_ATTACHMENTS_OF, found).all())
    if opinions:
        set_committed_value(memo, "opinions", session.scalars(_OPINIONS_OF, found).all())


def _check_version(memo: Memo, version: int | None) -> None:
    if version is not None and version != memo.version:
        raise StaleVersion(
            f"memo {memo.id} is at version {memo.version}, not {version}",
            current_version=memo.version,
            state=memo.state,
        )


def _lock_for_author_change(
    session: Session, memo_id: int, actor: User, version: int | None, action: str
) -> Memo:
    """The memo, locked, if its author may change it now (draft or returned)."""
    memo = lock_memo(session, memo_id, actor)
    _check_version(memo, version)
    check_author(memo, actor, action)
    if memo.state not in EDITABLE_STATES:
        raise InvalidTransition(f"{action} needs a draft or returned memo", state=memo.state)
    return memo


def _record(
    session: Session,
    memo: Memo,
    actor: User,
    action: str,
    moved: tuple[str | None, str | None],
    opinion: str | None = None,
    details: dict[str, Any] | None = None,
    content_hash: str | None = None,
) -> None:
    """Flush the change and append its event to the organisation's audit chain
    (``content_hash``: the memo's document hash, when the caller has it already)."""
    session.flush()
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


def _touch(memo: Memo) -> None:
    memo.version += 1
    memo.updated_at = clock.utcnow_naive()


def _next_state(memo: Memo, action: str, route: Route | None = None) -> tuple[str, str, str | None]:
    """Fire ``action`` on the machine of the memo's route (or ``route``, the one it is
    about to get): (state before, state after, the role that must act in the state after)."""
    route = route or memo_route(memo)
    after = fire(route, memo.state, action)
    step = route.step_for_state(after)
    return memo.state, after, step.role if step is not None else None


def _move(memo: Memo, action: str) -> tuple[str, str]:
    """Move the memo by ``action`` and keep ``pending_role`` in step with the new state at
    once (a later query may autoflush)."""
    before, after, pending_role = _next_state(memo, action)
    memo.state = after
    memo.pending_role = pending_role
    return before, after


# --- drafting -------------------------------------------------------------------------


def _clean_fields(values: dict[str, Any], required: tuple[str, ...]) -> dict[str, Any]:
    """Validate and normalise memo fields; raise ValidationFailed naming every bad one."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        if name in FIELD_LIMITS:
            problem = check_text(value, FIELD_LIMITS[name], required=name in required)
            if problem:
                errors[name] = problem
            else:
                cleaned[name] = normalise_newlines(value)
        elif name in CHOICE_FIELDS:
            if value not in CHOICE_FIELDS[name]:
                errors[name] = "choice:" + ",".join(CHOICE_FIELDS[name])
            else:
                cleaned[name] = value
        else:
            errors[name] = "unknown_field"
    for name in required:
        if name not in values and name not in errors:
            errors[name] = "required"
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def create_memo(session: Session, actor: User, **fields: Any) -> Memo:
    """A new draft by ``actor``. Needs at least a subject and an addressee; the unit
    defaults to the author's."""
    if not can_create_memo(actor):
        raise NotAllowed("an admin does not write memos", action="create")
    cleaned = _clean_fields(fields, REQUIRED_FOR_DRAFT)
    cleaned.setdefault("unit", actor.unit)
    now = clock.utcnow_naive()
    values = _NEW_MEMO | {
        "organisation_id": actor.organisation_id,
        "author_id": actor.id,
        "state": "draft",
        "created_at": now,
        "updated_at": now,
        **cleaned,
    }
    memo = Memo(**values)
    # Columns left NULL are left out: a JSON column given None would store JSON null.
    row = {name: value for name, value in values.items() if value is not None}
    _insert_as_stored(session, _INSERT_MEMO, memo, row)
    set_committed_value(memo, "organisation", actor.organisation)
    set_committed_value(memo, "author", actor)
    # A new memo has neither: saying so spares the audit event's document hash a query
    # for attachments that cannot exist yet.
    set_committed_value(memo, "attachments", [])
    set_committed_value(memo, "opinions", [])
    _record(session, memo, actor, "create", (None, memo.state))
    return memo


def edit_memo(
    session: Session, memo_id: int, actor: User, version: int | None = None, **fields: Any
) -> Memo:
    """Change fields of a draft or returned memo (author only)."""
    memo = _lock_for_author_change(session, memo_id, actor, version, "edit")
    cleaned = _clean_fields(fields, ())
    merged = {name: getattr(memo, name) for name in REQUIRED_FOR_DRAFT} | cleaned
    if missing := [name for name in REQUIRED_FOR_DRAFT if not str(merged[name]).strip()]:
        raise ValidationFailed({name: "required" for name in missing})
    changed = sorted(name for name, value in cleaned.items() if getattr(memo, name) != value)
    if not changed:
        return memo
    for name in changed:
        setattr(memo, name, cleaned[name])
    _touch(memo)
    _record(session, memo, actor, "edit", (memo.state, memo.state), details={"fields": changed})
    return memo


def _store_contents_statement(insert: Any) -> Any:
    return insert(Blob.__table__).on_conflict_do_nothing(index_elements=["sha256"])


_STORE_CONTENTS = {
    "postgresql": _store_contents_statement(postgresql_insert),
    "sqlite": _store_contents_statement(sqlite_insert),
}


def add_attachment(
    session: Session,
    memo_id: int,
    actor: User,
    filename: str,
    data: bytes,
    claimed_media_type: str | None = None,
    version: int | None = None,
) -> Attachment:
    """Attach a file to a draft or returned memo (author only). The contents are stored
    once by SHA-256 and must match the name's type (workflow.files); the name is kept for
    display only. The type the client claimed is used only when neither the contents nor
    the name say more."""
    memo = _lock_for_author_change(session, memo_id, actor, version, "attach")
    display_name = safe_display_name(filename)
    media_type = attachment_media_type(display_name, data, claimed_media_type)
    digest = hashlib.sha256(data).hexdigest()
    # Contents already stored are shared, under a key-share lock (PostgreSQL; SQLite's
    # writers are serialised anyway): a removal of the last attachment with these
    # contents (remove_attachment) either finishes first, and they are stored afresh
    # here, or waits and then sees this attachment and keeps them. Only the key is read,
    # not the stored file.
    stored = session.scalar(
        select(Blob.sha256).where(Blob.sha256 == digest).with_for_update(key_share=True)
    )
    if stored is None:
        # Two uploads of the same new contents at once: the second waits for the first
        # and then stores nothing (ON CONFLICT DO NOTHING) instead of failing.
        connection = writing_connection(session)
        connection.execute(
            _STORE_CONTENTS[connection.dialect.name],
            {"sha256": digest, "size": len(data), "data": data},
        )
    attachment = Attachment(
        memo_id=memo.id,
        filename=display_name,
        media_type=media_type,
        size=len(data),
        sha256=digest,
        uploaded_by_id=actor.id,
        created_at=clock.utcnow_naive(),
    )
    memo.attachments.append(attachment)
    _touch(memo)
    _record(
        session,
        memo,
        actor,
        "attach",
        (memo.state, memo.state),
        details={"attachment_id": attachment.id, "name": display_name, "sha256": digest},
    )
    return attachment


# Whether any attachment has these contents: answered from ix_attachment_sha256.
CONTENTS_STILL_USED = select(Attachment.id).where(Attachment.sha256 == bindparam("sha256")).limit(1)


def remove_attachment(
    session: Session, memo_id: int, attachment_id: int, actor: User, version: int | None = None
) -> Attachment:
    """Take a file off a draft or returned memo (author only): attached by mistake, or
    replaced by a newer copy. Returns the removed attachment. Its contents are deleted too
    unless another attachment has the same contents. The audit event names the file; like
    an edited text, the removed contents live on only as the hash earlier events recorded."""
    memo = _lock_for_author_change(session, memo_id, actor, version, "detach")
    _load_contents(session, memo, opinions=False)
    attachment = next((a for a in memo.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise NotFound("attachment not found", attachment_id=attachment_id)
    memo.attachments.remove(attachment)  # delete-orphan: the row goes at the flush
    session.flush()
    # The contents' row is locked before asking whether another attachment has them:
    # an upload of the same contents meanwhile (add_attachment) waits for this, or this
    # waits for it and sees its attachment.
    contents = attachment.sha256
    session.execute(select(Blob.sha256).where(Blob.sha256 == contents).with_for_update())
    still_used = session.scalar(CONTENTS_STILL_USED, {"sha256": contents})
    if still_used is None:
        session.execute(delete(Blob).where(Blob.sha256 == contents))
    _touch(memo)
    _record(
        session,
        memo,
        actor,
        "detach",
        (memo.state, memo.state),
        details={
            "attachment_id": attachment.id,
            "name": attachment.filename,
            "sha256": attachment.sha256,
        },
    )
    return attachment


def safe_display_name(filename: str) -> str:
    """The last path component of an uploaded name, for display; never used as a path.
    A name is one line: newline, carriage return and tab are refused like the other control
    characters (a download sends the name in a header, which cannot carry a line break)."""
    name = (filename or "").replace("\\", "/").split("/")[-1].strip()
    if (
        not name
        or name in (".", "..")
        or check_text(name, FILENAME_LIMIT)
        or any(character in name for character in "\r\n\t")
    ):
        raise ValidationFailed({"file": "bad_filename"})
    return name


def attachment_data(
    session: Session, memo_id: int, attachment_id: int, actor: User
) -> tuple[Attachment, bytes]:
    memo = get_memo(session, memo_id, actor)
    attachment = next((a for a in memo.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise NotFound("attachment not found")
    blob = session.get(Blob, attachment.sha256)
    if blob is None:
        raise NotFound("attachment contents missing")
    return attachment, blob.data


# --- the route ------------------------------------------------------------------------


def _write_opinion(session: Session, memo: Memo, values: dict[str, Any]) -> Opinion:
    """Insert the opinion and add it to ``memo.opinions`` as a stored object."""
    opinion = Opinion(**values)
    try:
        _insert_as_stored(session, _INSERT_OPINION, opinion, values)
    except IntegrityError as error:
        # The named unique constraint is the last line of defence against a double decision.
        raise AlreadyDecided("this step was already decided in this round") from error
    set_committed_value(memo, "opinions", [*memo.opinions, opinion])
    return opinion


def _moved(memo: Memo, after: str, pending_role: str | None, now: datetime) -> dict[str, Any]:
    """The memo's column changes of a move to ``after``: what ``_move`` and ``_touch`` do
    to the object, as values for ``_write_memo``."""
    return {
        "state": after,
        "pending_role": pending_role,
        "version": memo.version + 1,
        "updated_at": now,
    }


def _write_memo(session: Session, memo: Memo, changes: dict[str, Any]) -> None:
    """Store ``changes`` to the locked memo's columns and set them on ``memo`` as stored."""
    writing_connection(session).execute(_UPDATE_MEMO, {"locked_memo_id": memo.id, **changes})
    for name, value in changes.items():
        set_committed_value(memo, name, value)


def submit(session: Session, memo_id: int, actor: User, version: int | None = None) -> Memo:
    """Send a draft or returned memo to the first step. The first submission fixes the
    route snapshot, takes the next register number and dates the memo."""
    memo = lock_memo(session, memo_id, actor)
    _check_version(memo, version)
    check_author(memo, actor, "submit")
    if memo.state not in EDITABLE_STATES:
        raise InvalidTransition("submit is not possible from " + memo.state, state=memo.state)
    _clean_fields({name: getattr(memo, name) for name in TEXT_FIELDS}, REQUIRED_FOR_SUBMIT)
    _load_contents(session, memo, opinions=False)  # the audit event's document hash
    changes: dict[str, Any] = {}
    route = None
    if memo.route_snapshot is None:
        # The first submission: number, date and the route the memo will follow.
        changes |= register.issue_number(session, memo)
        route = organisation_route(memo).without_roles_of(actor.role)
        changes["route_snapshot"] = route.as_data()
        writing_connection(session).execute(
            _INSERT_ROUTE_ROLE,
            [
                {"memo_id": memo.id, "role": role, "organisation_id": memo.organisation_id}
                for role in sorted(route.roles)
            ],
        )
    before, after, pending_role = _next_state(memo, "submit", route)
    changes |= _moved(memo, after, pending_role, clock.utcnow_naive())
    _write_memo(session, memo, changes)
    _record(
        session,
        memo,
        actor,
        "submit",
        (before, after),
        details={
            "number": memo.number,
            "date": memo.date.isoformat() if memo.date else None,
            "round": memo.round,
        },
    )
    return memo


def _refuse_second_decision(memo: Memo, actor: User, error: NotAllowed) -> None:
    """Someone who may not act at the current step but already decided a step of their
    role in this round gets a conflict (409), not a refusal: typically a second click, or
    a colleague of the same role who was faster. Otherwise the refusal stands."""
    decided_roles = {
        step.role
        for step in memo_route(memo).steps
        for opinion in memo.opinions
        if opinion.round == memo.round and opinion.step == step.key
    }
    if actor.role in decided_roles:
        raise AlreadyDecided(
            "this step was already decided in this round", state=memo.state
        ) from error
    raise error


def _decide(
    session: Session,
    memo_id: int,
    actor: User,
    action: str,
    text: str,
    decision: str | None = None,
    version: int | None = None,
) -> Memo:
    """The shared body of endorse, return, sign and reject."""
    memo = lock_memo(session, memo_id, actor)
    _check_version(memo, version)
    try:
        step, standing = check_step_actor(memo, actor, action)
    except NotAllowed as refusal:
        _refuse_second_decision(memo, actor, refusal)
        raise
    text = normalise_newlines(text or "")
    text_required = action != "sign"
    if problem := check_text(text, OPINION_LIMIT, required=text_required):
        raise ValidationFailed({"opinion": problem})
    if action == "sign" and decision not in {d.value for d in Decision}:
        raise ValidationFailed({"decision": "choice:" + ",".join(d.value for d in Decision)})
    # The opinions are loaded after the memo was locked, so nobody can add one meanwhile;
    # the decision hash below needs them anyway. The unique constraint stays the last line.
    _load_contents(session, memo)
    if any(o.round == memo.round and o.step == step.key for o in memo.opinions):
        raise AlreadyDecided("this step was already decided in this round")
    round_ = memo.round
    # The document is encoded once, for the decision hash and for the audit event.
    document = memo_document(memo)
    bound_to = decision_hash(memo, round_, document=document)
    before, after, pending_role = _next_state(memo, action)
    now = clock.utcnow_naive()
    opinion = _write_opinion(
        session,
        memo,
        {
            "memo_id": memo.id,
            "round": round_,
            "step": step.key,
            "action": action,
            "actor_id": actor.id,
            "actor_name": actor.full_name,
            "actor_position": actor.position,
            "text": text,
            "decision": decision if action == "sign" else None,
            "capacity": standing.capacity,
            "acting_for": step.title if standing.authorisation else None,
            "order_ref": standing.order_ref,
            "created_at": now,
            "content_hash": bound_to,
        },
    )
    changes = _moved(memo, after, pending_role, now)
    if action == "return":
        changes["round"] = round_ + 1
    if action in ("sign", "reject"):
        changes["decided_by_id"] = actor.id
    _write_memo(session, memo, changes)
    _record(
        session,
        memo,
        actor,
        action,
        (before, after),
        opinion=text,
        details={
            "round": round_,
            "step": step.key,
            "decision": opinion.decision,
            "decision_hash": bound_to,
            "capacity": opinion.capacity,
            "acting_for": opinion.acting_for,
            "order_ref": opinion.order_ref,
        },
        content_hash=sha256_of(document),
    )
    return memo


def endorse(
    session: Session, memo_id: int, actor: User, opinion: str, version: int | None = None
) -> Memo:
    """Write an opinion at the current (not last) step, sign it and pass the memo on."""
    return _decide(session, memo_id, actor, "endorse", opinion, version=version)


def return_memo(
    session: Session, memo_id: int, actor: User, reason: str, version: int | None = None
) -> Memo:
    """Send the memo back to its author for revision; a new round starts."""
    return _decide(session, memo_id, actor, "return", reason, version=version)


def sign(
    session: Session,
    memo_id: int,
    actor: User,
    decision: str,
    opinion: str = "",
    version: int | None = None,
) -> Memo:
    """The final signer's decision: acknowledged (ทราบ), approved (อนุมัติ), agreed (เห็นชอบ)."""
    return _decide(session, memo_id, actor, "sign", opinion, decision=decision, version=version)


def reject(
    session: Session, memo_id: int, actor: User, reason: str, version: int | None = None
) -> Memo:
    """The final signer's refusal (ไม่อนุมัติ); a reason is required."""
    return _decide(session, memo_id, actor, "reject", reason, version=version)


def withdraw(session: Session, memo_id: int, actor: User, version: int | None = None) -> Memo:
    """The author cancels the memo before it is decided; its number stays, cancelled."""
    memo = lock_memo(session, memo_id, actor)
    _check_version(memo, version)
    check_author(memo, actor, "withdraw")
    before, after = _move(memo, "withdraw")
    if memo.number is not None:
        register.cancel_number(session, memo)
    _touch(memo)
    _record(
        session, memo, actor, "withdraw", (before, after), details={"cancelled_number": memo.number}
    )
    return memo


def perform(
    session: Session,
    memo_id: int,
    actor: User,
    action: str,
    opinion: str | None = None,
    decision: str | None = None,
    version: int | None = None,
) -> Memo:
    """Dispatch one workflow action by name (the API's and the forms' single entry)."""
    if action == "submit":
        return submit(session, memo_id, actor, version)
    if action == "withdraw":
        return withdraw(session, memo_id, actor, version)
    if action == "sign":
        return sign(session, memo_id, actor, decision or "", opinion or "", version)
    if action in ("endorse", "return", "reject"):
        return _decide(session, memo_id, actor, action, opinion or "", version=version)
    raise ValidationFailed({"action": "choice:submit,endorse,return,sign,reject,withdraw"})
