"""marshmallow schemas of the JSON API: they parse requests and document responses in the
generated OpenAPI document. Field rules (lengths, choices, control characters) live in
workflow, so the API and the forms refuse the same things the same way."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields

from models import Decision, Secrecy, Urgency
from workflow.actions import FIELD_LIMITS, OPINION_LIMIT

# workflow.validation's rules, written into the document for clients and fuzzers (the
# workflow enforces them): no control character but tab, newline and carriage return;
# where text is required, at least one character that str.strip() keeps.
_CONTROL = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f"
_SPACE = (
    "\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
TEXT_PATTERN = f"^[^{_CONTROL}]*$"
REQUIRED_TEXT_PATTERN = f"^[^{_CONTROL}]*[^{_CONTROL}{_SPACE}][^{_CONTROL}]*$"


def text(limit: int, *, required_text: bool = False, **options: Any) -> fields.String:
    """A text field, documented with the limit and the characters the workflow accepts."""
    pattern = REQUIRED_TEXT_PATTERN if required_text else TEXT_PATTERN
    return fields.String(metadata={"maxLength": limit, "pattern": pattern}, **options)


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class MemoCreateSchema(StrictSchema):
    subject = text(FIELD_LIMITS["subject"], required_text=True, required=True)
    to = text(FIELD_LIMITS["to"], required_text=True, required=True)
    unit = text(FIELD_LIMITS["unit"])
    background = text(FIELD_LIMITS["background"])
    facts = text(FIELD_LIMITS["facts"])
    proposal = text(FIELD_LIMITS["proposal"])
    urgency = fields.String(metadata={"enum": [u.value for u in Urgency]})
    secrecy = fields.String(metadata={"enum": [s.value for s in Secrecy]})


class MemoPatchSchema(StrictSchema):
    subject = text(FIELD_LIMITS["subject"], required_text=True)
    to = text(FIELD_LIMITS["to"], required_text=True)
    unit = text(FIELD_LIMITS["unit"])
    background = text(FIELD_LIMITS["background"])
    facts = text(FIELD_LIMITS["facts"])
    proposal = text(FIELD_LIMITS["proposal"])
    urgency = fields.String(metadata={"enum": [u.value for u in Urgency]})
    secrecy = fields.String(metadata={"enum": [s.value for s in Secrecy]})
    version = fields.Integer(allow_none=True)


class ActionSchema(StrictSchema):
    action = fields.String(
        required=True,
        metadata={"enum": ["submit", "endorse", "return", "sign", "reject", "withdraw"]},
    )
    # Required (not blank) to endorse, return or reject; optional to sign.
    opinion = text(OPINION_LIMIT, allow_none=True)
    decision = fields.String(allow_none=True, metadata={"enum": [d.value for d in Decision]})
    version = fields.Integer(allow_none=True)


class AdminOpenSchema(StrictSchema):
    reason = text(OPINION_LIMIT, required_text=True, required=True)


class PageQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    page = fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100_000))


class VersionQuerySchema(ma.Schema):
    """``?version=N``: the memo version the caller saw (a stale one gets 409)."""

    class Meta:
        unknown = ma.EXCLUDE

    version = fields.Integer(load_default=None)


class MemoListQuerySchema(PageQuerySchema):
    state = fields.String(load_default=None, validate=ma.validate.Length(max=80))
    q = fields.String(load_default=None, validate=ma.validate.Length(max=200))


class PersonSchema(ma.Schema):
    name = fields.String()
    position = fields.String()


class OpinionSchema(ma.Schema):
    round = fields.Integer()
    step = fields.String()
    action = fields.String()
    by = fields.Nested(PersonSchema)
    text = fields.String()
    decision = fields.String(allow_none=True)
    capacity = fields.String(allow_none=True)
    acting_for = fields.String(allow_none=True)
    at = fields.String()


class AttachmentSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    media_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()


class StepSchema(ma.Schema):
    key = fields.String()
    role = fields.String()
    label = fields.String()
    title = fields.String()


class MemoSummarySchema(ma.Schema):
    id = fields.Integer()
    number = fields.String(allow_none=True)
    date = fields.String(allow_none=True)
    state = fields.String()
    version = fields.Integer()
    subject = fields.String()
    urgency = fields.String()
    secrecy = fields.String()
    author = fields.Nested(PersonSchema)
    updated_at = fields.String()


class MemoSchema(MemoSummarySchema):
    """The whole memo: the summary's fields and the rest."""

    round = fields.Integer()
    unit = fields.String()
    to = fields.String()
    background = fields.String()
    facts = fields.String()
    proposal = fields.String()
    route = fields.List(fields.Nested(StepSchema))
    current_step = fields.String(allow_none=True)
    opinions = fields.List(fields.Nested(OpinionSchema))
    attachments = fields.List(fields.Nested(AttachmentSchema))
    allowed_actions = fields.List(fields.String())
    can_edit = fields.Boolean()


class MemoPageSchema(ma.Schema):
    items = fields.List(fields.Nested(MemoSummarySchema))
    total = fields.Integer(
        metadata={"description": "Memos found; at most 1,000 (see total_capped)"}
    )
    total_capped = fields.Boolean(
        metadata={"description": "More memos than total were found: the count stops at 1,000"}
    )
    page = fields.Integer()
    pages = fields.Integer()


class AuditEventSchema(ma.Schema):
    seq = fields.Integer()
    action = fields.String()
    actor = fields.Nested(PersonSchema)
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    opinion = fields.String(allow_none=True)
    content_hash = fields.String(allow_none=True)
    details = fields.Dict()
    at = fields.String()
    prev_hash = fields.String()
    hash = fields.String()
    verified = fields.Boolean()


class AuditSchema(ma.Schema):
    events = fields.List(fields.Nested(AuditEventSchema))
    verified = fields.Boolean()


class ErrorBodySchema(ma.Schema):
    code = fields.String()
    message = fields.String()
    fields_ = fields.Dict(data_key="fields")
    # Refusals say who may act (403), and conflicts the memo's state and version (409).
    may_act = fields.String()
    role = fields.String()
    state = fields.String()
    current_version = fields.Integer()


class ErrorSchema(ma.Schema):
    error = fields.Nested(ErrorBodySchema)


class UploadSchema(ma.Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)
