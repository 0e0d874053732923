"""The opinion record: one definition of what an opinion holds and where each of its
fields lives in the audit event of the decision that wrote it.

A decision (workflow.actions.decisions) builds one ``OpinionRecord``, inserts it as the
opinion row (``row``) and records it in its audit event (the event's own columns and
``event_details``); verification (workflow.audit) reads it back from the event
(``from_event``) and compares it with the stored opinion (``from_opinion``). The event's
layout is part of the hashed audit encoding (docs/audit.md): it must not change.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from datetime import datetime
from typing import Any

from models import AuditEvent, Opinion

# Fields kept in the event's own columns: opinion field -> event column.
ON_EVENT = {
    "action": "action",
    "actor_id": "actor_id",
    "actor_name": "actor_name",
    "actor_position": "actor_position",
    "text": "opinion",
}
# Fields kept in the event's ``details``: opinion field -> details key.
IN_DETAILS = {
    "round": "round",
    "step": "step",
    "decision": "decision",
    "content_hash": "decision_hash",
    "capacity": "capacity",
    "acting_for": "acting_for",
    "order_ref": "order_ref",
}


@dataclass(frozen=True)
class OpinionRecord:
    """An opinion as both the opinion row and the audit event record it."""

    round: int
    step: str
    action: str
    actor_id: int | None
    actor_name: str
    actor_position: str
    text: str
    decision: str | None
    capacity: str | None
    acting_for: str | None
    order_ref: str | None
    content_hash: str | None  # the decision hash: what the opinion was made on

    @classmethod
    def from_opinion(cls, opinion: Opinion) -> OpinionRecord:
        return cls(*(getattr(opinion, field.name) for field in fields(cls)))

    @classmethod
    def from_event(cls, event: AuditEvent) -> OpinionRecord:
        details = event.details or {}
        values: dict[str, Any] = {
            name: getattr(event, column) for name, column in ON_EVENT.items()
        } | {name: details.get(key) for name, key in IN_DETAILS.items()}
        values["text"] = values["text"] or ""
        return cls(**values)

    def event_details(self) -> dict[str, Any]:
        """The event's ``details`` of the decision that wrote this opinion."""
        return {key: getattr(self, name) for name, key in IN_DETAILS.items()}

    def row(self, memo_id: int, created_at: datetime) -> dict[str, Any]:
        """The opinion row's columns but its id."""
        return {
            "memo_id": memo_id,
            **{field.name: getattr(self, field.name) for field in fields(self)},
            "created_at": created_at,
        }

    def as_tuple(self) -> tuple[Any, ...]:
        return astuple(self)


assert set(ON_EVENT) | set(IN_DETAILS) == {field.name for field in fields(OpinionRecord)}
