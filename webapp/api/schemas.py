"""marshmallow schemas of the JSON API: they parse requests and document responses in the
generated OpenAPI document. Field rules (lengths, choices, control characters) live in
workflow, so the API and the forms refuse the same things the same way."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields

from models import Decision, Secrecy, Urgency
from workflow.action_table import ACTION_NAMES
from workflow.actions import FIELD_LIMITS, OPINION_LIMIT, REQUIRED_FOR_SUBMIT
from workflow.files import EXPECTED as ATTACHMENT_TYPES

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


# Drafts may be incomplete; submitting needs these filled in (workflow.actions.submit).
SUBMIT_NEEDS = (
    "Needed (not blank) before the memo can be submitted: "
    + ", ".join(REQUIRED_FOR_SUBMIT)
    + ". A draft may leave it empty."
)


def text(
    limit: int, *, required_text: bool = False, description: str = "", **options: Any
) -> fields.String:
    """A text field, documented with the limit and the characters the workflow accepts."""
    pattern = REQUIRED_TEXT_PATTERN if required_text else TEXT_PATTERN
    metadata: dict[str, Any] = {"maxLength": limit, "pattern": pattern}
    if description:
        metadata["description"] = description
    return fields.String(metadata=metadata, **options)


def memo_text(name: str, **options: Any) -> fields.String:
    """One of the memo's text fields; those the submission needs say so."""
    description = SUBMIT_NEEDS if name in REQUIRED_FOR_SUBMIT else ""
    return text(FIELD_LIMITS[name], description=description, **options)


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class MemoCreateSchema(StrictSchema):
    subject = memo_text("subject", required_text=True, required=True)
    to = memo_text("to", required_text=True, required=True)
    unit = memo_text("unit")
    background = memo_text("background")
    facts = memo_text("facts")
    proposal = memo_text("proposal")
    urgency = fields.String(metadata={"enum": [u.value for u in Urgency]})
    secrecy = fields.String(metadata={"enum": [s.value for s in Secrecy]})


class MemoPatchSchema(StrictSchema):
    subject = memo_text("subject", required_text=True)
    to = memo_text("to", required_text=True)
    unit = memo_text("unit")
    background = memo_text("background")
    facts = memo_text("facts")
    proposal = memo_text("proposal")
    urgency = fields.String(metadata={"enum": [u.value for u in Urgency]})
    secrecy = fields.String(metadata={"enum": [s.value for s in Secrecy]})
    version = fields.Integer(allow_none=True)


ACTION_NEEDS = (
    "submit (the author; the memo must have "
    + ", ".join(REQUIRED_FOR_SUBMIT)
    + " filled in, else 422 validation_failed naming each in `fields`),"
    " endorse, return and reject (an opinion is needed), sign (a decision is needed;"
    " the opinion is optional), withdraw (the author)."
)


class ActionSchema(StrictSchema):
    action = fields.String(
        required=True,
        metadata={
            "enum": list(ACTION_NAMES),  # workflow.action_table's actions
            "description": ACTION_NEEDS,
        },
    )
    opinion = text(
        OPINION_LIMIT,
        allow_none=True,
        description="Needed (not blank) to endorse, return or reject; optional to sign.",
    )
    decision = fields.String(
        allow_none=True,
        metadata={"enum": [d.value for d in Decision], "description": "Needed to sign."},
    )
    version = fields.Integer(
        allow_none=True,
        metadata={"description": "The memo version the caller saw; a stale one gets 409."},
    )


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


ATTACHMENT_EXTENSIONS = sorted(ATTACHMENT_TYPES)


class UploadSchema(StrictSchema):
    """The multipart form of an upload: one part, ``file``, and nothing else."""

    file = fields.Raw(
        required=True,
        metadata={
            "type": "string",
            "format": "binary",
            "description": (
                "The file, under a name ending in one of: ."
                + ", .".join(ATTACHMENT_EXTENSIONS)
                + ". Its contents must be what the name says (422 content_mismatch);"
                " other names get 422 extension_not_allowed, programs 422 executable."
            ),
            "x-allowed-extensions": ATTACHMENT_EXTENSIONS,
        },
    )
