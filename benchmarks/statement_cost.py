"""What bounds table a: the instructions one statement costs through each layer, counted
by valgrind.

    python benchmarks/statement_cost.py [--transactions 100 600] [--statements 8]
                                        [--layers driver,Core,ORM]

memoflow's lifecycle of five commits runs 42 statements besides BEGIN and COMMIT: 16
load ORM objects (the actor, the locked memo, its attachments, its opinions) and 26 are
Core statements built once (the inserts and updates, the audit chain, the register).
django-fsm-2 runs 3 per commit. This measures what one statement costs, whatever
memoflow does around it, so that the engine's instructions per commit
(benchmarks/engine_cost.py) can be split into what SQLAlchemy costs for the statements
memoflow's rules need and what memoflow itself costs.

On a new SQLite file (WAL, synchronous=FULL) holding one memo, each layer runs
transactions of ``--statements`` reads of that memo by primary key, and transactions of
none, under ``valgrind --tool=callgrind``, for two numbers of transactions; the
difference between the two runs, over the transactions between, is the cost of one
transaction, and the difference between the full and the empty transaction, over the
statements, the cost of one statement. The layers:

- driver: sqlite3's own cursor (``BEGIN IMMEDIATE``, ``execute``, ``fetchall``, ``COMMIT``);
- Core: an SQLAlchemy connection executing a ``select()`` built once, as memoflow's
  writes and its audit chain do;
- ORM: a session executing ``select(Memo)`` built once with lock_memo's options (the
  organisation and the author not joined, ``populate_existing``), as memoflow loads the
  memo it locks: the same row made into a Memo object, refreshed on every read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on the path, and its http.py would
# shadow the standard library's http.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != REPO / "benchmarks"]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

LAYERS = ("driver", "Core", "ORM")


def _one_memo(path: Path) -> tuple[str, int]:
    """A new SQLite file at the newest revision with one memo; (URL, the memo's id)."""
    from benchmarks.common import fresh_schema, sqlite_target
    from benchmarks.dataset import MEMO_FIELDS, seed_people
    from models.db import make_engine, make_session_factory
    from workflow import accounts, actions

    target = sqlite_target(path.parent, path.stem)
    fresh_schema(target)
    engine = make_engine(target.url)
    (people,) = seed_people(engine, organisations=1)
    with make_session_factory(engine).begin() as session:
        officer = accounts.load_user(session, people.officer)
        assert officer is not None
        memo_id = actions.create_memo(session, officer, **MEMO_FIELDS).id
    engine.dispose()
    return target.url, memo_id


def child(layer: str, path: Path, transactions: int, statements: int) -> None:
    """Run ``transactions`` transactions of ``statements`` reads through ``layer``."""
    from sqlalchemy import bindparam, select
    from sqlalchemy.orm import lazyload

    from models import Memo
    from models.db import make_engine, make_session_factory

    url, memo_id = _one_memo(path)
    # As workflow.actions.lock_memo reads the memo (without FOR UPDATE, which SQLite
    # leaves out anyway): the organisation and author not joined, the object refreshed.
    by_id = (
        select(Memo)
        .where(Memo.id == bindparam("memo_id"))
        .options(lazyload(Memo.organisation), lazyload(Memo.author))
        .execution_options(populate_existing=True)
    )
    found: list[Any] = []
    if layer == "driver":
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        sql = str(select(Memo.__table__).where(Memo.id == bindparam("memo_id")).compile())
        sql = sql.replace(":memo_id", "?")
        for _ in range(transactions):
            connection.execute("BEGIN IMMEDIATE")
            for _ in range(statements):
                found = connection.execute(sql, (memo_id,)).fetchall()
            connection.execute("COMMIT")
    else:
        engine = make_engine(url, pool_size=1)
        if layer == "Core":
            core_by_id = select(Memo.__table__).where(Memo.id == bindparam("memo_id"))
            for _ in range(transactions):
                with engine.begin() as core:
                    for _ in range(statements):
                        found = core.execute(core_by_id, {"memo_id": memo_id}).all()
        else:
            sessions = make_session_factory(engine)
            for _ in range(transactions):
                with sessions.begin() as session:
                    for _ in range(statements):
                        found = session.execute(by_id, {"memo_id": memo_id}).scalars().all()
        engine.dispose()
    assert statements == 0 or len(found) == 1
    print(json.dumps({"transactions": transactions}))


def _instructions(layer: str, workdir: Path, transactions: int, statements: int) -> int:
    from benchmarks.engine_cost import callgrind, fresh

    path = fresh(workdir / f"statement_cost_{layer.lower()}.sqlite3")
    command = [sys.executable, str(Path(__file__).resolve()), "--child", layer, str(path)]
    command += [str(transactions), str(statements)]
    return callgrind(command, dict(os.environ), REPO)[0]


def per_transaction(layer: str, workdir: Path, counts: tuple[int, int], statements: int) -> float:
    few, many = (_instructions(layer, workdir, count, statements) for count in counts)
    return (many - few) / (counts[1] - counts[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, nargs=2, default=(100, 600))
    parser.add_argument("--statements", type=int, default=8)
    parser.add_argument("--layers", default=",".join(LAYERS), help="comma-separated")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        layer, path, transactions, statements = options.child
        child(layer, Path(path), int(transactions), int(statements))
        return

    counts = tuple(options.transactions)
    if counts[1] <= counts[0]:
        parser.error("the second number of transactions must be the larger")
    statements = options.statements
    print("| layer | one transaction, no statement | one statement (a read by key) |")
    print("|---|---|---|")
    for layer in options.layers.split(","):
        if layer not in LAYERS:
            parser.error(f"unknown layer {layer!r}: {', '.join(LAYERS)}")
        empty = per_transaction(layer, options.workdir, counts, 0)
        full = per_transaction(layer, options.workdir, counts, statements)
        each = (full - empty) / statements
        print(f"| {layer} | {empty / 1000:,.0f} k | {each / 1000:,.0f} k |", flush=True)
    print(
        f"\nvalgrind --tool=callgrind; instructions of {counts[1]} transactions minus"
        f" {counts[0]}, over the transactions between; transactions of {statements}"
        " statements against empty ones; SQLite file in WAL mode, synchronous=FULL."
    )


if __name__ == "__main__":
    main()
