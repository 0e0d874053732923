"""Document numbers from the register of outgoing documents (ทะเบียนหนังสือส่ง).

The counter row per (organisation, calendar year) is incremented with one
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` inside the submit transaction: atomic
on PostgreSQL and SQLite (≥ 3.35), without gaps (a rolled-back submit rolls its number
back too) and without any process-local lock. Numbers restart at 1 each 1 January
(Asia/Bangkok) and are never reused: a withdrawn memo's number stays, marked cancelled.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models import Memo, Organisation, RegisterCounter, RegisterEntry, RegisterStatus
from models.db import writing_connection
from workflow import clock
from workflow.prepared import Prepared


def _next_number_statement(insert: Any) -> Any:
    counter = cast(Table, RegisterCounter.__table__)
    return (
        insert(counter)
        .values(organisation_id=bindparam("organisation_id"), year=bindparam("year"), last_number=1)
        .on_conflict_do_update(
            index_elements=[counter.c.organisation_id, counter.c.year],
            set_={"last_number": counter.c.last_number + 1},
        )
        .returning(counter.c.last_number)
    )


# Compiled once per dialect and run on the transaction's driver connection
# (workflow.prepared): a submission is a hot path (benchmarks/RESULTS.md, engine).
_NEXT_NUMBER = {
    "postgresql": Prepared(_next_number_statement(postgresql_insert), writing=True),
    "sqlite": Prepared(_next_number_statement(sqlite_insert), writing=True),
}
_INSERT_ENTRY = Prepared(insert(cast(Table, RegisterEntry.__table__)), by_keys=True, writing=True)


def next_number(session: Session, organisation_id: int, year: int) -> int:
    statement = _NEXT_NUMBER[writing_connection(session).dialect.name]
    return int(statement.one(session, {"organisation_id": organisation_id, "year": year})[0])


def format_number(organisation: Organisation, sequence: int) -> str:
    """ "พท 72001/7": stored and shown with Arabic digits."""
    return f"{organisation.number_prefix}/{sequence}"


def issue_number(session: Session, memo: Memo) -> dict[str, Any]:
    """Take the next number of this calendar year for the memo and record it in the
    register; return the memo's number columns, for the caller to store with its other
    changes (the memo row is written once)."""
    today = clock.local_today()
    sequence = next_number(session, memo.organisation_id, today.year)
    _INSERT_ENTRY.rows(
        session,
        {
            "organisation_id": memo.organisation_id,
            "year": today.year,
            "sequence": sequence,
            "memo_id": memo.id,
            "issued_at": clock.utcnow_naive(),
        },
    )
    return {
        "number_year": today.year,
        "number_sequence": sequence,
        "number": format_number(memo.organisation, sequence),
        "date": today,
    }


def cancel_number(session: Session, memo: Memo) -> None:
    """Mark a withdrawn memo's number cancelled; it is never given out again."""
    entry = session.execute(
        select(RegisterEntry).where(RegisterEntry.memo_id == memo.id)
    ).scalar_one_or_none()
    if entry is not None:
        entry.status = RegisterStatus.cancelled.value
        entry.cancelled_at = clock.utcnow_naive()
