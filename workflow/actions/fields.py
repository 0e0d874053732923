"""A memo's fields: their rules, a new draft and an author's edits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, ColumnDefault, insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from models import Memo, Secrecy, Urgency, User
from workflow import clock
from workflow.actions.core import (
    MEMO_TABLE,
    bumped,
    insert_as_stored,
    lock_for_author_change,
    record,
    write_memo,
)
from workflow.errors import NotAllowed, ValidationFailed
from workflow.permissions import can_create_memo
from workflow.prepared import Prepared
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
TEXT_FIELDS = tuple(FIELD_LIMITS)
REQUIRED_FOR_DRAFT = ("subject", "to")
REQUIRED_FOR_SUBMIT = ("unit", "subject", "to", "facts", "proposal")
CHOICE_FIELDS: dict[str, tuple[str, ...]] = {
    "urgency": tuple(u.value for u in Urgency),
    "secrecy": tuple(s.value for s in Secrecy),
}
EDITABLE_FIELDS = TEXT_FIELDS + tuple(CHOICE_FIELDS)


def clean_fields(values: dict[str, Any], required: tuple[str, ...]) -> dict[str, Any]:
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


def check_complete(memo: Memo) -> None:
    """ValidationFailed naming each field a submission needs that the memo lacks."""
    clean_fields({name: getattr(memo, name) for name in TEXT_FIELDS}, REQUIRED_FOR_SUBMIT)


def _scalar_default(column: Column[Any]) -> Any:
    default = column.default
    return default.arg if isinstance(default, ColumnDefault) and default.is_scalar else None


# A new memo's columns before its author's fields: the columns' defaults.
_NEW_MEMO: dict[str, Any] = {
    column.key: _scalar_default(column) for column in MEMO_TABLE.c if column.key != "id"
}
_INSERT_MEMO = Prepared(insert(MEMO_TABLE).returning(MEMO_TABLE.c.id), by_keys=True, writing=True)


def create_memo(session: Session, actor: User, **fields: Any) -> Memo:
    """A new draft by ``actor``. Needs at least a subject and an addressee; the unit
    defaults to the author's."""
    if not can_create_memo(actor):
        raise NotAllowed("an admin does not write memos", action="create")
    cleaned = clean_fields(fields, REQUIRED_FOR_DRAFT)
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
    # Columns left NULL are left out: a JSON column given None would store JSON null.
    row = {name: value for name, value in values.items() if value is not None}
    memo: Memo = insert_as_stored(session, _INSERT_MEMO, Memo, values, row)
    set_committed_value(memo, "organisation", actor.organisation)
    set_committed_value(memo, "author", actor)
    # A new memo has neither: saying so spares the audit event's document hash a query
    # for attachments that cannot exist yet.
    set_committed_value(memo, "attachments", [])
    set_committed_value(memo, "opinions", [])
    record(session, memo, actor, "create", (None, memo.state))
    return memo


def edit_memo(
    session: Session, memo_id: int, actor: User, version: int | None = None, **fields: Any
) -> Memo:
    """Change fields of a draft or returned memo (author only)."""
    memo = lock_for_author_change(session, memo_id, actor, version, "edit")
    cleaned = clean_fields(fields, ())
    merged = {name: getattr(memo, name) for name in REQUIRED_FOR_DRAFT} | cleaned
    if missing := [name for name in REQUIRED_FOR_DRAFT if not str(merged[name]).strip()]:
        raise ValidationFailed({name: "required" for name in missing})
    changed = sorted(name for name, value in cleaned.items() if getattr(memo, name) != value)
    if not changed:
        return memo
    write_memo(session, memo, {name: cleaned[name] for name in changed} | bumped(memo))
    record(session, memo, actor, "edit", (memo.state, memo.state), details={"fields": changed})
    return memo
