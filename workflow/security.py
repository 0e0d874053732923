"""The security log: logins, failed logins, refused actions and admins' explicit access
to secret memos. Written by the web layer in its own short transaction, so a refusal that
rolls the request back is still recorded."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models import SecurityEvent, User
from workflow import clock

DETAIL_LIMIT = 2000


def _as_logged(text: str, limit: int) -> str:
    """What someone sent, as the log keeps it: a NUL shown as ``\\x00`` (PostgreSQL
    refuses NUL in text; a probe's username must not turn its own refusal into a 500)."""
    return text.replace("\x00", "\\x00")[:limit]


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
        username=_as_logged(user.username if user is not None else username, 100),
        remote_addr=_as_logged(remote_addr, 64),
        detail=_as_logged(detail, DETAIL_LIMIT),
    )
    session.add(event)
    session.flush()
    return event
