"""What a decision is bound to: the canonical content of a memo.

``document_hash`` covers the memo's fields and attachments; ``decision_hash`` covers the
document plus the earlier opinions of the same round, and is stored with each opinion.
The encoding is the one in ``workflow.canonical`` and docs/audit.md.
"""

from __future__ import annotations

from typing import Any

from models import Memo, Opinion
from workflow.canonical import canonical_json, format_utc, sha256_hex, sha256_of

CONTENT_FIELDS = (
    "unit",
    "subject",
    "to",
    "background",
    "facts",
    "proposal",
    "urgency",
    "secrecy",
)


def memo_document(memo: Memo) -> dict[str, Any]:
    document: dict[str, Any] = {name: getattr(memo, name) for name in CONTENT_FIELDS}
    document.update(
        memo_id=memo.id,
        author_id=memo.author_id,
        number=memo.number,
        date=memo.date.isoformat() if memo.date else None,
        attachments=[
            {
                "name": attachment.filename,
                "media_type": attachment.media_type,
                "size": attachment.size,
                "sha256": attachment.sha256,
            }
            for attachment in sorted(memo.attachments, key=lambda a: a.id)
        ],
    )
    return document


def document_hash(memo: Memo) -> str:
    return sha256_of(memo_document(memo))


def encoded_document(memo: Memo) -> str:
    """The memo's document in the canonical encoding: ``document_hash`` hashes it, and
    ``decision_hash`` takes it instead of encoding the document again."""
    return canonical_json(memo_document(memo))


def opinion_record(opinion: Opinion) -> dict[str, Any]:
    return {
        "round": opinion.round,
        "step": opinion.step,
        "action": opinion.action,
        "actor_id": opinion.actor_id,
        "actor_name": opinion.actor_name,
        "actor_position": opinion.actor_position,
        "text": opinion.text,
        "decision": opinion.decision,
        "capacity": opinion.capacity,
        "acting_for": opinion.acting_for,
        "order_ref": opinion.order_ref,
        "at": format_utc(opinion.created_at),
    }


def decision_hash(
    memo: Memo,
    round_: int,
    before_opinion_id: int | None = None,
    document: dict[str, Any] | None = None,
    encoded: str | None = None,
) -> str:
    """Hash of what a decision in ``round_`` decided on: the document and the opinions of
    that round written before it (all of them when ``before_opinion_id`` is None).
    ``document`` is ``memo_document(memo)``, or ``encoded`` its ``encoded_document``, when
    the caller has it already."""
    earlier = [
        opinion_record(opinion)
        for opinion in sorted(memo.opinions, key=lambda o: o.id)
        if opinion.round == round_
        and opinion.id is not None
        and (before_opinion_id is None or opinion.id < before_opinion_id)
    ]
    if encoded is None:
        if document is None:
            document = memo_document(memo)
        return sha256_of({"document": document, "round": round_, "opinions": earlier})
    # The same canonical encoding, the document's already made: the keys sorted
    # (document, opinions, round), no whitespace.
    decided = f'{{"document":{encoded},"opinions":{canonical_json(earlier)},"round":{round_:d}}}'
    return sha256_hex(decided)
