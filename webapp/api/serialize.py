"""Plain-dict views of memos, opinions and audit events for the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models import Memo, Opinion, User
from workflow.audit import EventCheck
from workflow.permissions import allowed_actions, can_edit, memo_route
from workflow.queries import MemoHeading


def iso_utc(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def opinion_json(opinion: Opinion) -> dict[str, Any]:
    return {
        "round": opinion.round,
        "step": opinion.step,
        "action": opinion.action,
        "by": {"name": opinion.actor_name, "position": opinion.actor_position},
        "text": opinion.text,
        "decision": opinion.decision,
        "capacity": opinion.capacity,
        "acting_for": opinion.acting_for,
        "at": iso_utc(opinion.created_at),
    }


def memo_summary_json(memo: Memo | MemoHeading) -> dict[str, Any]:
    """A memo's heading (the lists' items; the start of a whole memo's JSON)."""
    return {
        "id": memo.id,
        "number": memo.number,
        "date": memo.date.isoformat() if memo.date else None,
        "state": memo.state,
        "version": memo.version,
        "subject": memo.subject,
        "urgency": memo.urgency,
        "secrecy": memo.secrecy,
        "author": {"name": memo.author.full_name, "position": memo.author.position},
        "updated_at": iso_utc(memo.updated_at),
    }


def heading_row_json(row: tuple[Any, ...]) -> dict[str, Any]:
    """``memo_summary_json`` of a row of workflow.queries.inbox_rows, read straight from
    the row (the API inbox builds no heading object)."""
    (id_, number, date_, state, version, subject, urgency, secrecy, updated_at) = row[:9]
    return {
        "id": id_,
        "number": number,
        "date": date_.isoformat() if date_ else None,
        "state": state,
        "version": version,
        "subject": subject,
        "urgency": urgency,
        "secrecy": secrecy,
        "author": {"name": row[9], "position": row[10]},
        "updated_at": iso_utc(updated_at),
    }


def memo_json(memo: Memo, viewer: User) -> dict[str, Any]:
    route = memo_route(memo)
    step = route.step_for_state(memo.state)
    data = memo_summary_json(memo)
    data.update(
        round=memo.round,
        unit=memo.unit,
        to=memo.to,
        background=memo.background,
        facts=memo.facts,
        proposal=memo.proposal,
        route=route.as_data(),
        current_step=step.key if step else None,
        opinions=[opinion_json(o) for o in memo.opinions],
        attachments=[
            {
                "id": a.id,
                "name": a.filename,
                "media_type": a.media_type,
                "size": a.size,
                "sha256": a.sha256,
            }
            for a in memo.attachments
        ],
        allowed_actions=allowed_actions(memo, viewer),
        can_edit=can_edit(memo, viewer),
    )
    return data


def audit_json(checks: list[EventCheck]) -> dict[str, Any]:
    return {
        "events": [
            {
                "seq": check.event.seq,
                "action": check.event.action,
                "actor": {"name": check.event.actor_name, "position": check.event.actor_position},
                "from_state": check.event.from_state,
                "to_state": check.event.to_state,
                "opinion": check.event.opinion,
                "content_hash": check.event.content_hash,
                "details": check.event.details,
                "at": iso_utc(check.event.at),
                "prev_hash": check.event.prev_hash,
                "hash": check.event.hash,
                "verified": check.ok,
            }
            for check in checks
        ],
        "verified": all(check.ok for check in checks),
    }
