"""The security log: logins, failed logins, refused actions and admins' explicit access
to secret memos. Written by the web layer in its own short transaction, so a refusal that
rolls the request back is still recorded."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models import SecurityEvent, User
from workflow import clock

DETAIL_LIMIT = 2000


def record(
    session: Session,
    kind: str,
    *,
    user: User | None = None,
    username: str = "",
    remote_addr: str = "",
    detail: str = "",
) -> SecurityEvent:
    event = SecurityEvent(
        at=clock.utcnow_naive(),
        kind=kind,
        user_id=user.id if user is not None else None,
        username=(user.username if user is not None else username)[:100],
        remote_addr=remote_addr[:64],
        detail=detail[:DETAIL_LIMIT],
    )
    session.add(event)
    session.flush()
    return event
