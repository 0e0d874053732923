"""Reading the memo forms: the field names are the API's, the rules are the workflow's.

No validation rule lives here; ``workflow.actions`` refuses bad input with
``ValidationFailed`` and the page shows its reasons next to the fields.
"""

from __future__ import annotations

from typing import Any

from flask import Request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from workflow.actions import EDITABLE_FIELDS
from workflow.errors import ValidationFailed

MEMO_FIELDS = EDITABLE_FIELDS  # unit, subject, to, background, facts, proposal, urgency, secrecy
SEARCH_TEXT_LIMIT = 200
MAX_PAGE = 100_000


def memo_fields(form: Any) -> dict[str, str]:
    """The memo fields present in a submitted form (absent ones are left unchanged)."""
    return {name: form[name] for name in MEMO_FIELDS if name in form}


def version_of(form: Any) -> int | None:
    """The version the page was rendered from, so a stale page gets a conflict (409)."""
    raw = form.get("version")
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationFailed({"version": "not_integer"}) from None


def page_number(request: Request) -> int:
    raw = request.args.get("page", "1")
    try:
        return min(max(1, int(raw)), MAX_PAGE)
    except ValueError:
        return 1


def search_text(request: Request) -> str:
    return request.args.get("q", "").strip()[:SEARCH_TEXT_LIMIT]


def read_upload(upload: FileStorage | None, limit: int) -> tuple[str, bytes, str | None]:
    """(name, contents, the type the browser claimed) of an uploaded file no larger than
    ``limit`` bytes. The workflow decides the real type from the contents."""
    if upload is None or not upload.filename:
        raise ValidationFailed({"file": "missing_file"})
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise RequestEntityTooLarge()
    return upload.filename, data, upload.mimetype or None
