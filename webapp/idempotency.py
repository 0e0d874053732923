"""Retries are safe: the first answer to a request with an idempotency key is kept.

A client that lost the answer to a POST (a dropped connection, a timeout, a double click,
a browser's refresh) sends it again. With the same key it gets the answer of the first
attempt instead of a second memo or a second decision:

- the JSON API: the ``Idempotency-Key`` header on any POST (the convention of the IETF
  draft "The Idempotency-Key HTTP Header Field" and of Stripe's API);
- the HTML forms: a hidden ``idempotency_key`` field written by ``form_keys()`` beside the
  CSRF token, new each time the form is shown.

``claim`` runs before the view, inside the request's transaction. It inserts the key's row
(INSERT ... ON CONFLICT DO NOTHING): a concurrent request with the same key waits on the
unique index until the first one's transaction ends (PostgreSQL; SQLite's writers are
serialised anyway), then finds its row. ``keep`` fills the row with the answer just before
the request's commit (webapp.db), so the answer is stored exactly when the effect is.
A request that fails is rolled back with its row: nothing happened, a retry acts afresh.
The same key with another request (method, path, body) is refused with 422.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from typing import Any, cast

from flask import Response, g, request
from markupsafe import Markup
from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models.base import utcnow
from models.db import writing_connection
from models.idempotency import KEY_LIMIT, RETENTION, IdempotentRequest
from workflow.errors import ValidationFailed, WorkflowError

HEADER = "Idempotency-Key"
FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
FORM_FIELD = "idempotency_key"
# Form fields that change between two sendings of the same form and say nothing of what
# was asked: the CSRF token (re-signed per page) and the key itself.
UNASKED_FIELDS = frozenset({"csrf_token", FORM_FIELD})
# Status of a claimed row whose answer is not written yet (never committed as such).
IN_PROGRESS = 0

_TABLE = cast(Table, IdempotentRequest.__table__)


def _claim_statement(insert: Any) -> Any:
    return (
        insert(_TABLE)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(_TABLE.c.id)
    )


_CLAIM = {
    "postgresql": _claim_statement(postgresql_insert),
    "sqlite": _claim_statement(sqlite_insert),
}
_STORED = select(
    _TABLE.c.fingerprint, _TABLE.c.status, _TABLE.c.content_type, _TABLE.c.location, _TABLE.c.body
).where(_TABLE.c.user_id == bindparam("user_id"), _TABLE.c.key == bindparam("key"))
_KEEP = update(_TABLE).where(_TABLE.c.id == bindparam("claimed_id"))
_FORGET_OLD = delete(_TABLE).where(
    _TABLE.c.user_id == bindparam("user_id"), _TABLE.c.created_at < bindparam("before")
)


class IdempotencyKeyReused(WorkflowError):
    """The key was used before, with another request: acting would not be a retry."""

    code = "idempotency_key_reused"
    status = 422


@dataclass(frozen=True)
class Claim:
    """A key claimed by the current request: its row's id, to be filled by ``keep``."""

    row_id: int


def form_keys() -> Markup:
    """The hidden fields every POST form carries: the CSRF token and a new idempotency key
    (so that a second click or a refresh of a lost answer is answered, not done again)."""
    from flask_wtf.csrf import generate_csrf

    return Markup(
        '<input type="hidden" name="csrf_token" value="{}">'
        '<input type="hidden" name="{}" value="{}">'
    ).format(generate_csrf(), FORM_FIELD, uuid.uuid4().hex)


def requested_key() -> str | None:
    """The key this request carries, if it is a POST with one (header or form field)."""
    if request.method != "POST":
        return None
    key = request.headers.get(HEADER)
    if key is None and request.mimetype in FORM_TYPES:
        key = request.form.get(FORM_FIELD)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > KEY_LIMIT or not key.isprintable():
        raise ValidationFailed({HEADER: "invalid"})
    return key


def fingerprint() -> str:
    """What the request asked, as a hash: method, path and query, and the body — a form's
    fields and files by name and contents, since a multipart body's boundary differs from
    one sending to the next; any other body as its bytes."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.full_path}\n".encode())
    if request.mimetype in FORM_TYPES:
        for name, value in sorted(request.form.items(multi=True)):
            if name not in UNASKED_FIELDS:
                digest.update(f"f {name}={value}\n".encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            # werkzeug types the stream as IO[bytes]; what it is (a BytesIO, a spooled
            # temporary file) reads into a buffer, as file_digest needs.
            contents = hashlib.file_digest(cast(io.BufferedIOBase, upload.stream), "sha256")
            upload.stream.seek(0)
            digest.update(f"u {name}={upload.filename}:{contents.hexdigest()}\n".encode())
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _stored_response(row: Any) -> Response:
    response = Response(row.body, status=row.status, content_type=row.content_type or None)
    if row.location:
        response.headers["Location"] = row.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def claim(session: Session, user_id: int, key: str) -> Response | None:
    """Claim ``key`` for this request, or return the answer already kept for it.
    Raises IdempotencyKeyReused when the key was used with another request."""
    asked = fingerprint()
    connection = writing_connection(session)
    now = utcnow()
    row_id = connection.execute(
        _CLAIM[connection.dialect.name],
        {
            "user_id": user_id,
            "key": key,
            "fingerprint": asked,
            "created_at": now,
            "status": IN_PROGRESS,
            "content_type": "",
            "location": "",
            "body": b"",
        },
    ).scalar_one_or_none()
    if row_id is not None:
        g.idempotency_claim = Claim(row_id)
        # Answers past their retention go when their user next sends a key (an index on
        # created_at keeps a periodic sweep cheap too).
        connection.execute(_FORGET_OLD, {"user_id": user_id, "before": now - RETENTION})
        return None
    stored = connection.execute(_STORED, {"user_id": user_id, "key": key}).one()
    if stored.fingerprint != asked:
        raise IdempotencyKeyReused("this idempotency key was used for another request")
    return _stored_response(stored)


def keep(session: Session, response: Response) -> None:
    """Store ``response`` as the answer to the key this request claimed, if it claimed one;
    called in the request's transaction just before its commit."""
    claimed: Claim | None = g.pop("idempotency_claim", None)
    if claimed is None:
        return
    writing_connection(session).execute(
        _KEEP,
        {
            "claimed_id": claimed.row_id,
            "status": response.status_code,
            "content_type": response.content_type or "",
            "location": response.headers.get("Location", ""),
            "body": response.get_data(),
        },
    )
