"""Document numbers from the register of outgoing documents (ทะเบียนหนังสือส่ง).

The counter row per (organisation, calendar year) is incremented with one
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` inside the submit transaction: atomic
on PostgreSQL and SQLite (≥ 3.35), without gaps (a rolled-back submit rolls its number
back too) and without any process-local lock. Numbers restart at 1 each 1 January
(Asia/Bangkok) and are never reused: a withdrawn memo's number stays, marked cancelled.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models import Memo, Organisation, RegisterCounter, RegisterEntry, RegisterStatus
from workflow import clock


def next_number(session: Session, organisation_id: int, year: int) -> int:
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(RegisterCounter)
        .values(organisation_id=organisation_id, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=[RegisterCounter.organisation_id, RegisterCounter.year],
            set_={"last_number": RegisterCounter.last_number + 1},
        )
        .returning(RegisterCounter.last_number)
    )
    return int(session.execute(statement).scalar_one())


def format_number(organisation: Organisation, sequence: int) -> str:
    """ "พท 72001/7": stored and shown with Arabic digits."""
    return f"{organisation.number_prefix}/{sequence}"


def issue_number(session: Session, memo: Memo) -> None:
    """Give the memo the next number of this calendar year and record it."""
    today = clock.local_today()
    sequence = next_number(session, memo.organisation_id, today.year)
    memo.number_year = today.year
    memo.number_sequence = sequence
    memo.number = format_number(memo.organisation, sequence)
    memo.date = today
    session.add(
        RegisterEntry(
            organisation_id=memo.organisation_id,
            year=today.year,
            sequence=sequence,
            memo_id=memo.id,
            issued_at=clock.utcnow_naive(),
        )
    )


def cancel_number(session: Session, memo: Memo) -> None:
    """Mark a withdrawn memo's number cancelled; it is never given out again."""
    entry = session.execute(
        select(RegisterEntry).where(RegisterEntry.memo_id == memo.id)
    ).scalar_one_or_none()
    if entry is not None:
        entry.status = RegisterStatus.cancelled.value
        entry.cancelled_at = clock.utcnow_naive()
