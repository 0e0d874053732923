"""What every benchmark section shares: the databases measured, fresh schemas, the
machine description, tables of results and process-parallel clients."""

from __future__ import annotations

import multiprocessing
import os
import platform
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

# Users made by the benchmarks never log in; cheap hashes keep seeding quick.
os.environ.setdefault("MEMOFLOW_PASSWORD_HASH", "fast")

from models import Base, migrate
from models.db import make_engine


@dataclass(frozen=True)
class Target:
    """One database under test: a SQLite file, or a schema of a PostgreSQL database
    (selected with ``search_path`` in the URL, so nothing else in that database is
    touched)."""

    kind: str  # "sqlite" or "postgresql"
    url: str
    label: str

    @property
    def is_sqlite(self) -> bool:
        return self.kind == "sqlite"


def sqlite_target(directory: Path, name: str) -> Target:
    path = directory / f"{name}.sqlite3"
    return Target("sqlite", f"sqlite:///{path}", "SQLite (WAL, synchronous=FULL)")


def postgres_target(server_url: str, schema: str) -> Target:
    url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return Target("postgresql", url.render_as_string(hide_password=False), "PostgreSQL 15")


def fresh_schema(target: Target) -> None:
    """An empty database at the newest revision (through the migrations, as deployed)."""
    if target.is_sqlite:
        path = Path(make_url(target.url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        schema = schema_of(target)
        server = make_url(target.url).difference_update_query(["options"])
        engine = make_engine(server.render_as_string(hide_password=False), poolclass=NullPool)
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
    migrate.upgrade(target.url)


def drop_schema(target: Target) -> None:
    if target.is_sqlite:
        path = Path(make_url(target.url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    server = make_url(target.url).difference_update_query(["options"])
    engine = make_engine(server.render_as_string(hide_password=False), poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema_of(target)}" CASCADE'))
    engine.dispose()


def settle(engine: Engine, target: Target) -> None:
    """After a bulk load, what a DBA (or PostgreSQL's autovacuum, given time) does: refresh
    the planner's statistics and, on PostgreSQL, VACUUM, which marks the pages all-visible
    so that index-only scans need not visit the table."""
    if target.is_sqlite:
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
        return
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM ANALYZE {tables}"))


def warm_file_cache(target: Target) -> float:
    """Read a SQLite database's files once, so the measurements that follow find them in
    the operating system's page cache, as on a server with the memory to hold its data.
    Returns the seconds it took.

    Why: this machine (a VM) pages out file pages left untouched for 60 seconds (a DAMON
    ``pageout`` scheme: /sys/kernel/mm/damon/admin), so right after a 9 GB bulk load the
    memos read at random came from the disk, and a memo page at 1,000,000 memos measured
    the disk (benchmarks/RESULTS.md at 47590cd shows both runs). A PostgreSQL server keeps its own
    files; nothing is read for it here."""
    started = time.perf_counter()
    if target.is_sqlite:
        for suffix in ("", "-wal"):
            path = Path(f"{sqlite_path(target)}{suffix}")
            if path.exists():
                with open(path, "rb") as data:
                    while data.read(1 << 24):
                        pass
    return time.perf_counter() - started


def schema_of(target: Target) -> str:
    options = str(make_url(target.url).query.get("options", ""))
    return options.removeprefix("-csearch_path=")


def driver_url(target: Target) -> str:
    """The URL for a bare driver connection (psycopg), without SQLAlchemy's dialect."""
    return make_url(target.url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_path(target: Target) -> str:
    return make_url(target.url).database or ""


def connect_sqlite(target: Target) -> sqlite3.Connection:
    """A driver connection with memoflow's settings (models.db): WAL, synchronous=FULL,
    busy timeout, transactions begun explicitly."""
    connection = sqlite3.connect(sqlite_path(target), timeout=30, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA busy_timeout = 30000")
    return connection


# --- results ----------------------------------------------------------------------------


@dataclass
class Table:
    title: str
    columns: Sequence[str]
    rows: list[Sequence[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *row: Any) -> None:
        self.rows.append(row)

    def render(self) -> str:
        """GitHub-flavoured Markdown, readable in a terminal too."""
        cells = [[_cell(v) for v in row] for row in self.rows]
        widths = [
            max(len(str(c)), *(len(r[i]) for r in cells)) if cells else len(str(c))
            for i, c in enumerate(self.columns)
        ]
        lines = [f"### {self.title}", ""]
        lines.append(
            "| "
            + " | ".join(str(c).ljust(w) for c, w in zip(self.columns, widths, strict=True))
            + " |"
        )
        lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for row in cells:
            lines.append(
                "| " + " | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + " |"
            )
        lines.extend(["", *self.notes] if self.notes else [])
        return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def machine() -> str:
    """One line describing where the figures come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    sqlite_version = sqlite3.sqlite_version
    wrk = "wrk" if shutil.which("wrk") else "no wrk (Python load generator)"
    try:
        postgres = subprocess.run(
            ["psql", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        postgres = "no psql"
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_gb:.0f} GB RAM, {platform.system()}"
        f" {platform.release()}, Python {platform.python_version()}, SQLite {sqlite_version},"
        f" {postgres}, {wrk}"
    )


# --- parallel clients -------------------------------------------------------------------


def _client_main(
    work: Callable[..., dict[str, float]],
    args: tuple[Any, ...],
    start: Any,
    seconds: float,
    results: Any,
) -> None:
    try:
        results.put(work(*args, start=start, seconds=seconds))
    except BaseException as error:  # reported by the parent, which fails the run
        results.put({"error": f"{type(error).__name__}: {error}"})
        raise


def run_clients(
    work: Callable[..., dict[str, float]],
    per_client_args: Sequence[tuple[Any, ...]],
    seconds: float,
) -> dict[str, float]:
    """Run ``work(*args, start=barrier, seconds=...)`` in one process per client; each
    prepares itself, waits at the barrier, then works for ``seconds``. Returns the sum of
    the clients' counters and the wall time of the measured window."""
    context = multiprocessing.get_context("fork")
    start = context.Barrier(len(per_client_args) + 1)
    results = context.Queue()
    processes = [
        context.Process(target=_client_main, args=(work, args, start, seconds, results))
        for args in per_client_args
    ]
    for process in processes:
        process.start()
    start.wait(timeout=300)
    began = time.perf_counter()
    collected = [results.get(timeout=seconds + 300) for _ in processes]
    elapsed = time.perf_counter() - began
    for process in processes:
        process.join(timeout=60)
    errors = [r["error"] for r in collected if "error" in r]
    if errors:
        raise RuntimeError(f"a client failed: {errors[0]}")
    total: dict[str, float] = {"wall": elapsed}
    for result in collected:
        for key, value in result.items():
            total[key] = total.get(key, 0.0) + value
    return total


def query_plan(session: Session, target: Target, query: Any) -> list[str]:
    """The plan of ``query`` with its values inlined: EXPLAIN QUERY PLAN on SQLite,
    EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL."""
    dialect = session.get_bind().dialect
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    if target.is_sqlite:
        rows = session.execute(text("EXPLAIN QUERY PLAN " + sql)).all()
        return [str(row[3]) for row in rows]
    rows = session.execute(text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)).all()
    return [row[0] for row in rows]
