"""List queries in-process: one page of a list and its capped total (``queries.search``,
what GET /memos and /api/v1/memos run) for readers who may see most memos (the head of
office) and few (an officer, one of 20), with and without filters.

    python benchmarks/lists.py [--size 100000] [--postgres URL] [--code CHECKOUT] [--explain]

The office is built once (SIZE memos of history in the first organisation, 6,000 in a
second, 100 waiting for the head of office; 20 officers each) in a SQLite file under the
temporary directory or a schema of the PostgreSQL database, both named after the schema
revision of the checkout, and reused while its size matches. ``--code`` runs the queries
of another checkout (an older commit in a ``git worktree``), on data built with that
checkout's schema, for a before/after in one sitting. Each row is the median of 30
calls, each in a new session, after 3 unmeasured ones. ``--explain`` prints each case's
page statement's plan after the table (EXPLAIN QUERY PLAN, or EXPLAIN ANALYZE on
PostgreSQL).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("head of office", "head", {}),
    ("head of office", "head", {"state": "pending_head_of_office"}),
    ("head of office", "head", {"state": "signed"}),
    ("head of office", "head", {"mine": True}),
    ("head of office", "head", {"text": "ไม่มีเรื่องนี้"}),
    ("head of office", "head", {"text": "รถบรรทุกน้ำ"}),
    ("head of office", "head", {"text": "เดินทางไปราชการ"}),
    ("head of office", "head", {"text": "ขออนุมัติ"}),
    ("head of office", "head", {"text": "/4242"}),
    ("head of office", "head", {"text": "งบ"}),
    ("an officer (1 of 20)", "officer", {}),
    ("an officer (1 of 20)", "officer", {"mine": True}),
    ("an officer (1 of 20)", "officer", {"state": "signed"}),
    ("an officer (1 of 20)", "officer", {"text": "ไม่มีเรื่องนี้"}),
    ("an officer (1 of 20)", "officer", {"text": "รถบรรทุกน้ำ"}),
    ("an officer (1 of 20)", "officer", {"text": "เดินทางไปราชการ"}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL; SQLite when absent")
    parser.add_argument("--code", type=Path, help="the checkout whose queries are timed")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--explain", action="store_true", help="print the page query plans")
    options = parser.parse_args()
    code = (options.code or Path(__file__).resolve().parent.parent).resolve()
    sys.path.insert(0, str(code))

    from sqlalchemy import select, text

    from benchmarks import dataset
    from benchmarks.common import fresh_schema, postgres_target, sqlite_target
    from models import User, migrate
    from models.db import make_engine, make_session_factory
    from workflow import queries

    try:
        from benchmarks.common import settle
    except ImportError:  # a checkout older than settle (--code): statistics only
        settle = None

    name = f"bench_lists_{migrate.head()}"
    if options.postgres:
        target = postgres_target(options.postgres, name)
    else:
        target = sqlite_target(Path(tempfile.gettempdir()), f"memoflow_{name}")
    engine = make_engine(target.url)
    try:
        built = dataset.memo_count(engine)
    except Exception:  # no schema yet
        built = -1
    wanted_count = options.size + 100 + 6_000
    if built != wanted_count:
        engine.dispose()
        fresh_schema(target)
        engine = make_engine(target.url)
        first, second = dataset.seed_people(engine, organisations=2, officers=20)
        waiting = {"pending_head_of_office": 100}
        dataset.add_memos(engine, first.organisation_id, options.size, waiting)
        dataset.add_memos(engine, second.organisation_id, 6_000)
        if settle is not None:
            settle(engine, target)
        else:
            with engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()

    sessions = make_session_factory(engine, reading=True)
    with sessions() as session:
        ids = {
            name: session.execute(select(User.id).where(User.username == name)).scalar_one()
            for name in ("head", "officer")
        }
    print(f"{target.label}, {options.size:,} memos, queries of {code}\n")
    print("| reader | filter | median ms | p90 ms | total shown |")
    print("|---|---|---|---|---|")
    for reader, username, filters in CASES:
        times = []
        for run in range(options.runs + 3):
            with sessions() as session:
                user = session.get(User, ids[username])
                started = time.perf_counter()
                page = queries.search(session, user, **filters)
                if run >= 3:
                    times.append((time.perf_counter() - started) * 1000)
        shown = f"{'more than ' if page.total_capped else ''}{page.total:,}"
        label = ", ".join(f"{k}={v}" for k, v in filters.items()) or "none"
        p90 = statistics.quantiles(times, n=10)[-1]
        print(f"| {reader} | {label} | {statistics.median(times):.2f} | {p90:.2f} | {shown} |")
    if options.explain:
        from benchmarks.common import query_plan

        for reader, username, filters in CASES:
            with sessions() as session:
                user = session.get(User, ids[username])
                wanted = queries.ListFilter(**filters)
                label = ", ".join(f"{k}={v}" for k, v in filters.items()) or "none"
                print(f"\n-- {reader}, {label}")
                page = queries.visible_page_query(session, user, wanted)
                print("\n".join(query_plan(session, target, page)))
    engine.dispose()


if __name__ == "__main__":
    main()
