"""Stress with real parallel connections, on SQLite and on PostgreSQL.

- N racing pairs of decisions on the same step (two holders of one role, or the final
  signer and a second one): exactly one of each pair wins, the other gets a 409; never two
  opinions for one step of one round.
- M concurrent submissions: numbers 1..M with no gap and no duplicate.
- Afterwards the audit chain verifies and every memo agrees with its events.

Only database guarantees are at work (row locks, the write lock on SQLite, unique
constraints, version checks): each thread has its own connection and nothing in the
process serialises them. Threads share the GIL for Python code, but every lock wait and
every statement happens in the database, where they overlap for real.

Sizes come from the environment so CI runs them small and the full sizes run on demand:
``MEMOFLOW_STRESS_PAIRS`` (default 100), ``MEMOFLOW_STRESS_SUBMISSIONS`` (default 50),
``MEMOFLOW_STRESS_THREADS`` (default 16). The full run (results: benchmarks/RESULTS.md
at 47590cd):

    MEMOFLOW_STRESS_PAIRS=1000 MEMOFLOW_STRESS_SUBMISSIONS=200 \\
    MEMOFLOW_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
    pytest tests/test_stress.py -v
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AuditEvent, Memo, Opinion, RegisterEntry
from models.db import make_engine, make_session_factory
from tests.conftest import PASSWORD, Office, reset_schema, seed_memo_fields
from workflow import accounts, actions, audit
from workflow.errors import AlreadyDecided, InvalidTransition, StaleVersion, WorkflowError

PAIRS = int(os.environ.get("MEMOFLOW_STRESS_PAIRS", "100"))
SUBMISSIONS = int(os.environ.get("MEMOFLOW_STRESS_SUBMISSIONS", "50"))
THREADS = int(os.environ.get("MEMOFLOW_STRESS_THREADS", "16"))
# The only ways a loser may lose: all three are 409 Conflict.
LOSING_ERRORS = (StaleVersion, AlreadyDecided, InvalidTransition)


def _postgres_url() -> str | None:
    for name in ("MEMOFLOW_TEST_POSTGRES_URL", "MEMOFLOW_TEST_DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgresql", "postgres:")):
            return url
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def stress_office(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Office]:
    """The seed office plus a second head of office and a second mayor, on a pool with a
    connection for every thread."""
    if request.param == "postgresql":
        url = _postgres_url()
        if url is None:
            pytest.skip(
                "no PostgreSQL: set MEMOFLOW_TEST_POSTGRES_URL or MEMOFLOW_TEST_DATABASE_URL"
            )
    else:
        url = f"sqlite:///{tmp_path / 'stress.db'}"
    # Up to THREADS + 36 connections: every racing thread has its own, and up to 36 of the
    # concurrent submissions are inside the database at once (the rest wait for one).
    engine = make_engine(url, pool_size=THREADS + 4, max_overflow=32)
    reset_schema(engine)
    office = Office(make_session_factory(engine))

    def second_holders(session: Session) -> None:
        organisation = accounts.only_organisation(session)
        for username, name, position, role in (
            ("head2", "นางสาวจันทร์ เพ็ญ", "หัวหน้าสำนักปลัด", "head_of_office"),
            ("mayor2", "นายสุริยา แสงทอง", "นายกองค์การบริหารส่วนตำบล", "mayor"),
        ):
            accounts.add_user(session, organisation, username, name, position, role, PASSWORD)

    office.run(second_holders)
    yield office
    engine.dispose()


@dataclass(frozen=True)
class Race:
    """Two decisions on one step: (username, action, options) each."""

    memo_id: int
    step: str
    contenders: tuple[tuple[str, str, dict[str, Any]], tuple[str, str, dict[str, Any]]]


def _prepare_races(office: Office, count: int) -> list[Race]:
    """``count`` memos, each at the step its race is about, made in one transaction."""
    kinds = ("endorse_endorse", "endorse_return", "sign_reject", "versioned_endorse")
    races: list[Race] = []

    def work(session: Session) -> None:
        users = {name: office.user(session, name) for name in ("officer", "head", "palad")}
        for index in range(count):
            kind = kinds[index % len(kinds)]
            memo = actions.create_memo(session, users["officer"], **seed_memo_fields())
            actions.submit(session, memo.id, users["officer"])
            if kind == "sign_reject":
                actions.endorse(session, memo.id, office.user(session, "head"), "เห็นควรเสนอ")
                actions.endorse(session, memo.id, users["palad"], "เห็นควรพิจารณา")
            version = memo.version
            contenders: Any
            if kind == "endorse_endorse":
                contenders = (
                    ("head", "endorse", {"opinion": "เห็นควรเสนอ (1)"}),
                    ("head2", "endorse", {"opinion": "เห็นควรเสนอ (2)"}),
                )
            elif kind == "endorse_return":
                contenders = (
                    ("head", "endorse", {"opinion": "เห็นควรเสนอ"}),
                    ("head2", "return", {"opinion": "ขอให้แก้ไขข้อเท็จจริง"}),
                )
            elif kind == "sign_reject":
                contenders = (
                    ("mayor", "sign", {"decision": "approved", "opinion": "อนุมัติ"}),
                    ("mayor2", "reject", {"opinion": "ไม่อนุมัติ"}),
                )
            else:
                contenders = (
                    ("head", "endorse", {"opinion": "เห็นควร", "version": version}),
                    ("head2", "endorse", {"opinion": "เห็นควร", "version": version}),
                )
            step = "mayor" if kind == "sign_reject" else "head_of_office"
            races.append(Race(memo.id, step, contenders))

    office.run(work)
    return races


def _run_paired(
    tasks: list[Callable[[], Any]], group: int, threads: int
) -> tuple[list[Any], float]:
    """Run ``tasks`` on ``threads`` threads; each consecutive ``group`` of tasks starts at
    the same instant (a barrier). Returns each task's result or exception, and seconds."""
    barriers = [threading.Barrier(group) for _ in range(0, len(tasks), group)]
    results: list[Any] = [None] * len(tasks)

    def run(index: int) -> None:
        barriers[index // group].wait(timeout=120)
        try:
            results[index] = tasks[index]()
        except Exception as error:  # collected and asserted on by the caller
            results[index] = error

    started = time.perf_counter()
    # Tasks are taken in order, so at most one group is ever half started: no deadlock.
    with ThreadPoolExecutor(max_workers=max(threads, group)) as pool:
        for future in [pool.submit(run, i) for i in range(len(tasks))]:
            future.result()
    return results, time.perf_counter() - started


def _verify(office: Office) -> None:
    report = office.run(audit.verify)
    assert report.ok, report.problems[:5]


def test_racing_decisions_exactly_one_wins(stress_office: Office) -> None:
    office = stress_office
    races = _prepare_races(office, PAIRS)
    tasks: list[Callable[[], Any]] = [
        lambda r=race, c=contender: office.act(c[0], c[1], r.memo_id, **c[2])
        for race in races
        for contender in race.contenders
    ]
    results, seconds = _run_paired(tasks, group=2, threads=THREADS)

    winners: dict[int, str] = {}
    lost_with: Counter[str] = Counter()
    for index, race in enumerate(races):
        pair = results[2 * index : 2 * index + 2]
        wins = [r for r in pair if isinstance(r, str)]
        losses = [r for r in pair if isinstance(r, WorkflowError)]
        assert len(wins) == 1 and len(losses) == 1, (race, pair)
        assert isinstance(losses[0], LOSING_ERRORS) and losses[0].status == 409, (race, pair)
        winners[race.memo_id] = wins[0]
        lost_with[type(losses[0]).__name__] += 1

    with office.sessions() as session:
        doubled = session.execute(
            select(Opinion.memo_id, Opinion.round, Opinion.step)
            .group_by(Opinion.memo_id, Opinion.round, Opinion.step)
            .having(func.count() > 1)
        ).all()
        assert doubled == []
        states = {memo_id: state for memo_id, state in session.execute(select(Memo.id, Memo.state))}
        decided = Counter(
            session.execute(
                select(Opinion.memo_id).where(Opinion.memo_id.in_(list(winners)))
            ).scalars()
        )
    for race in races:
        assert states[race.memo_id] == winners[race.memo_id]
        # The step's one opinion (sign_reject memos also carry the two earlier ones).
        assert decided[race.memo_id] == (3 if race.step == "mayor" else 1)
    _verify(office)
    print(f"\n{PAIRS} racing pairs on {THREADS} threads: {seconds:.2f} s; losers: {lost_with}")


def test_concurrent_submissions_number_without_gaps(stress_office: Office) -> None:
    office = stress_office

    def drafts(session: Session) -> list[int]:
        officer = office.user(session, "officer")
        return [
            actions.create_memo(session, officer, **seed_memo_fields()).id
            for _ in range(SUBMISSIONS)
        ]

    memo_ids: list[int] = office.run(drafts)
    tasks: list[Callable[[], Any]] = [
        lambda m=memo_id: office.act("officer", "submit", m) for memo_id in memo_ids
    ]
    # Every submission starts at the same instant, each on its own connection.
    results, seconds = _run_paired(tasks, group=len(tasks), threads=len(tasks))
    failures = [r for r in results if not isinstance(r, str)]
    assert failures == []
    assert set(results) == {"pending_head_of_office"}

    with office.sessions() as session:
        numbers = sorted(
            session.execute(select(Memo.number_sequence).where(Memo.id.in_(memo_ids))).scalars()
        )
        entries = sorted(session.execute(select(RegisterEntry.sequence)).scalars())
        submits = session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "submit")
        ).scalar_one()
    assert numbers == list(range(1, SUBMISSIONS + 1))
    assert entries == numbers
    assert submits == SUBMISSIONS
    _verify(office)
    print(f"\n{SUBMISSIONS} concurrent submissions: {seconds:.2f} s")
