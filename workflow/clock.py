"""The one source of "now" for the workflow, so tests can control the clock.

Times are stored in UTC; calendar days (register years, memo dates, acting periods) are
computed in Asia/Bangkok.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from config import TIMEZONE

LOCAL_ZONE = ZoneInfo(TIMEZONE)


def _system_now() -> datetime:
    return datetime.now(UTC)


_now: Callable[[], datetime] = _system_now


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _now()


def utcnow_naive() -> datetime:
    """The current UTC time as stored in the database (naive, microsecond precision)."""
    return now().astimezone(UTC).replace(tzinfo=None)


def local_today() -> date:
    """Today's calendar date in Asia/Bangkok."""
    return now().astimezone(LOCAL_ZONE).date()


def to_local(stored_utc: datetime) -> datetime:
    """A stored (naive UTC) time as an aware Asia/Bangkok time."""
    return stored_utc.replace(tzinfo=UTC).astimezone(LOCAL_ZONE)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Make ``now()`` return ``at`` (aware) inside the block. For tests and demos."""
    global _now
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    previous = _now
    _now = lambda: at  # noqa: E731
    try:
        yield
    finally:
        _now = previous
