"""(a) The engine: full memo lifecycles through the workflow verbs against the raw
durable-commit rate of the same database, measured side by side in the same run.

A lifecycle is create, submit, endorse, endorse, sign: five transactions, each committed
durably with its audit event, four of them state transitions. The raw rate is a plain
``INSERT`` + ``COMMIT`` loop on a bare driver connection to the same database file or
server with the same settings (SQLite: WAL, synchronous=FULL, BEGIN IMMEDIATE;
PostgreSQL: the server's defaults, synchronous_commit=on). Every client is a process of
its own, so Python's GIL is not what is measured.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from benchmarks.common import (
    Table,
    Target,
    connect_sqlite,
    driver_url,
    fresh_schema,
    run_clients,
)
from benchmarks.dataset import MEMO_FIELDS, People, seed_people
from models.db import make_engine, make_session_factory
from workflow import accounts, actions

TRANSITIONS_PER_MEMO = 4  # submit, endorse, endorse, sign
COMMITS_PER_MEMO = 5  # and create
RAW_TABLE = "benchmark_raw_commit"
PAYLOAD = "x" * 200
# The columns every lifecycle table shares (this one and benchmarks.peers).
RATE_COLUMNS = (
    "memos/s",
    "transitions/s",
    "commits/s",
    "client CPU ms/commit",
    "raw commits/s (before / after)",
    "transitions ÷ raw",
    "commits ÷ raw",
)


def _create_raw_table(target: Target) -> None:
    ddl = (
        f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (id INTEGER PRIMARY KEY, client INTEGER,"
        " payload TEXT)"
        if target.is_sqlite
        else f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} (id SERIAL PRIMARY KEY, client INTEGER,"
        " payload TEXT)"
    )
    if target.is_sqlite:
        connection = connect_sqlite(target)
        connection.execute(ddl)
        connection.close()
    else:
        with psycopg.connect(driver_url(target), autocommit=True) as connection:
            connection.execute(ddl)


def raw_client(target: Target, client: int, *, start: Any, seconds: float) -> dict[str, float]:
    """INSERT + COMMIT in a loop on one driver connection."""
    if target.is_sqlite:
        lite = connect_sqlite(target)

        def commit_one() -> None:
            lite.execute("BEGIN IMMEDIATE")
            lite.execute(
                f"INSERT INTO {RAW_TABLE} (client, payload) VALUES (?, ?)", (client, PAYLOAD)
            )
            lite.execute("COMMIT")
    else:
        pg = psycopg.connect(driver_url(target))

        def commit_one() -> None:
            pg.execute(
                f"INSERT INTO {RAW_TABLE} (client, payload) VALUES (%s, %s)", (client, PAYLOAD)
            )
            pg.commit()

    for _ in range(20):
        commit_one()
    start.wait()
    deadline = time.perf_counter() + seconds
    commits = 0
    while time.perf_counter() < deadline:
        commit_one()
        commits += 1
    return {"commits": commits}


def lifecycle_client(
    target: Target, people: People, *, start: Any, seconds: float
) -> dict[str, float]:
    """Memo after memo through the verbs, one transaction per step, as the web layer does
    it: load the actor, call the verb, commit."""
    engine = make_engine(target.url, pool_size=1)
    sessions = make_session_factory(engine)

    def step(actor_id: int, work: Any) -> Any:
        with sessions.begin() as session:
            actor = accounts.load_user(session, actor_id)
            return work(session, actor)

    def lifecycle(deadline: float | None) -> tuple[int, int, int]:
        """Returns (memos, transitions, commits) completed before ``deadline``."""
        done = [0]

        def counted(actor_id: int, work: Any) -> Any:
            result = step(actor_id, work)
            if deadline is None or time.perf_counter() <= deadline:
                done[0] += 1
            return result

        memo_id = counted(people.officer, lambda s, a: actions.create_memo(s, a, **MEMO_FIELDS).id)
        counted(people.officer, lambda s, a: actions.submit(s, memo_id, a))
        counted(people.head, lambda s, a: actions.endorse(s, memo_id, a, "เห็นควรเสนอ"))
        counted(people.palad, lambda s, a: actions.endorse(s, memo_id, a, "เห็นควรอนุมัติ"))
        counted(people.mayor, lambda s, a: actions.sign(s, memo_id, a, "approved", "อนุมัติ"))
        commits = done[0]
        return int(commits == COMMITS_PER_MEMO), max(0, commits - 1), commits

    for _ in range(3):
        lifecycle(None)
    start.wait()
    deadline = time.perf_counter() + seconds
    cpu = time.process_time()
    totals = [0, 0, 0]
    while time.perf_counter() < deadline:
        for index, value in enumerate(lifecycle(deadline)):
            totals[index] += value
    cpu = time.process_time() - cpu
    engine.dispose()
    return {"memos": totals[0], "transitions": totals[1], "commits": totals[2], "cpu": cpu}


def rate_cells(result: dict[str, float], before: float, after: float) -> tuple[Any, ...]:
    """The RATE_COLUMNS of a lifecycle run, against the mean of the raw rates measured
    right before and right after it."""
    raw = (before + after) / 2
    wall = result["wall"]
    return (
        result["memos"] / wall,
        result["transitions"] / wall,
        result["commits"] / wall,
        result["cpu"] / max(1.0, result["commits"]) * 1000,
        f"{before:,.0f} / {after:,.0f}",
        result["transitions"] / wall / raw,
        result["commits"] / wall / raw,
    )


def _raw_rate(target: Target, clients: int, seconds: float) -> float:
    result = run_clients(raw_client, [(target, i) for i in range(clients)], seconds)
    return result["commits"] / result["wall"]


def run(targets: list[Target], seconds: float, clients: int = 16) -> Table:
    table = Table(
        "a) Engine: memo lifecycles vs the raw durable-commit rate (same database, same run)",
        ["database", "clients", "organisations", *RATE_COLUMNS],
    )
    for target in targets:
        fresh_schema(target)
        engine = make_engine(target.url)
        people = seed_people(engine, organisations=2)
        engine.dispose()
        _create_raw_table(target)

        for n, organisations in ((1, 1), (clients, 1), (clients, 2)):
            # The raw rate right before and right after, with as many clients: fsync costs
            # drift with whatever else the disk is doing, so each ratio uses its own raw.
            before = _raw_rate(target, n, seconds / 2)
            assigned = [(target, people[i % organisations]) for i in range(n)]
            result = run_clients(lifecycle_client, assigned, seconds)
            after = _raw_rate(target, n, seconds / 2)
            table.add(target.label, n, organisations, *rate_cells(result, before, after))
    table.notes.append(
        f"A lifecycle = create, submit, endorse, endorse, sign: {COMMITS_PER_MEMO} durable"
        f" transactions with an audit event each, {TRANSITIONS_PER_MEMO} of them transitions."
        f" Each lifecycle figure is a {seconds:g} s window; every client is a process with its"
        " own connection. Raw = INSERT+COMMIT loop on a bare driver connection to the same"
        f" database with as many clients, {seconds / 2:g} s right before and right after; the"
        " ratios use their mean. Client CPU = CPU time of the client processes (Python,"
        " SQLAlchemy, hashing; on SQLite the database engine too, as it runs in-process) per"
        " commit."
    )
    return table
