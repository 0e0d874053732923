"""The verb functions: memoflow's service API.

Each verb loads the memo with a write lock, checks the version the actor saw, checks the
actor may act, fires the trigger on the route's machine, writes the opinion and the audit
event, and flushes. None of them commits: the caller owns the transaction, so the state,
the opinion, the register entry and the audit event commit together or not at all.

By concern: ``fields`` (a memo's fields, a new draft, edits), ``attachments``,
``decisions`` (the route's actions, as workflow.action_table lists them, and ``perform``)
and ``core`` (locking and loading, and the one way every verb writes).
"""

from workflow.actions.attachments import (
    CONTENTS_STILL_USED,
    FILENAME_LIMIT,
    add_attachment,
    attachment_data,
    remove_attachment,
    safe_display_name,
)
from workflow.actions.core import OPINION_LIMIT, get_memo, lock_memo, open_as_admin
from workflow.actions.decisions import (
    endorse,
    perform,
    reject,
    return_memo,
    sign,
    submit,
    withdraw,
)
from workflow.actions.fields import (
    CHOICE_FIELDS,
    EDITABLE_FIELDS,
    FIELD_LIMITS,
    REQUIRED_FOR_DRAFT,
    REQUIRED_FOR_SUBMIT,
    TEXT_FIELDS,
    check_complete,
    create_memo,
    edit_memo,
)

__all__ = [
    "CHOICE_FIELDS",
    "CONTENTS_STILL_USED",
    "EDITABLE_FIELDS",
    "FIELD_LIMITS",
    "FILENAME_LIMIT",
    "OPINION_LIMIT",
    "REQUIRED_FOR_DRAFT",
    "REQUIRED_FOR_SUBMIT",
    "TEXT_FIELDS",
    "add_attachment",
    "attachment_data",
    "check_complete",
    "create_memo",
    "edit_memo",
    "endorse",
    "get_memo",
    "lock_memo",
    "open_as_admin",
    "perform",
    "reject",
    "remove_attachment",
    "return_memo",
    "safe_display_name",
    "sign",
    "submit",
    "withdraw",
]
