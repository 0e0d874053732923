"""A memo's attachments: adding and removing them (author only), reading one back."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models import Attachment, Blob, User
from models.db import writing_connection
from workflow import clock
from workflow.actions.core import (
    bumped,
    get_memo,
    load_contents,
    lock_for_author_change,
    record,
    write_memo,
)
from workflow.errors import NotFound, ValidationFailed
from workflow.files import attachment_media_type
from workflow.validation import check_text

FILENAME_LIMIT = 255


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
    memo = lock_for_author_change(session, memo_id, actor, version, "attach")
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
    write_memo(session, memo, bumped(memo))
    # The event's attachment_id is read before the flush that gives the attachment its
    # id, so it has always been recorded as null; it stays so (the name and the hash
    # identify the file), and changing it belongs to a change of the audit's contents.
    record(
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
    memo = lock_for_author_change(session, memo_id, actor, version, "detach")
    load_contents(session, memo, opinions=False)
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
    write_memo(session, memo, bumped(memo))
    record(
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
