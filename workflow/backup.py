"""Backing up and restoring the database.

SQLite (the embedded default): ``backup`` copies the live file with SQLite's online
backup API in one step, that is inside one read transaction, so the copy is a consistent
snapshot even while memoflow serves and writes (WAL mode lets the writers go on). The copy
is written next to the target, checked (``PRAGMA integrity_check`` and the audit chain,
``workflow.audit.verify``) and only then renamed into place: a backup file that exists is
complete. ``restore`` checks a backup the same way before it touches anything, keeps the
current files beside the database (``<name>.before-restore-<time>``), and swaps the
restored file in with a rename; memoflow must not be running meanwhile.

PostgreSQL is backed up with its own tools, pg_dump and pg_restore, which take consistent
snapshots of a running server; ``postgres_instructions`` says how (docs/backup.md), and
both functions raise ``NotSQLite`` with those instructions.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from models import AuditEvent, ChainHead, Memo
from workflow import audit

SQLITE_HEADER = b"SQLite format 3\x00"
REQUIRED_TABLES = frozenset(
    {Memo.__tablename__, AuditEvent.__tablename__, ChainHead.__tablename__, "organisation"}
)
BUSY_TIMEOUT_S = 30.0


class BackupError(Exception):
    """The backup or restore could not be done; the message says why."""


class NotSQLite(BackupError):
    """The database is not a SQLite file; the message says what to use instead."""


@dataclass
class BackupReport:
    """What a checked backup (or restored database) holds."""

    path: Path
    size: int
    event_count: int = 0
    head_hashes: dict[int, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # files set aside by a restore

    @property
    def ok(self) -> bool:
        return not self.problems


def postgres_instructions(url: str) -> str:
    """How to back up and restore a PostgreSQL database with its own tools."""
    shown = make_url(url).set(drivername="postgresql").render_as_string(hide_password=True)
    return (
        f"this database is PostgreSQL ({shown}); memoflow backup and restore copy SQLite"
        " files only.\n"
        "Back it up with pg_dump, which takes a consistent snapshot while memoflow runs:\n"
        f"  pg_dump --format=custom --file=FILE '{shown}'\n"
        "Restore it into an empty database with pg_restore (stop memoflow first):\n"
        f"  pg_restore --clean --if-exists --no-owner --dbname='{shown}' FILE\n"
        "then check it with: memoflow audit verify\n"
        "(give the password through PGPASSWORD or ~/.pgpass; see docs/backup.md)"
    )


def sqlite_path(url: str) -> Path:
    """The file of a SQLite database URL; NotSQLite for anything else."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise NotSQLite(postgres_instructions(url))
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise BackupError("an in-memory database has no file to back up")
    return Path(database).resolve()


def check(path: Path) -> BackupReport:
    """Check a SQLite file as a memoflow database: SQLite's integrity check, memoflow's
    tables, and the audit chain with every memo replayed against its events."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{path} is not a SQLite database")
    report = BackupReport(path=path, size=path.stat().st_size)
    uri = f"file:{path}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)) as connection:
            integrity = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} cannot be read: {error}") from error
    if integrity != ["ok"]:
        report.problems.extend(f"integrity: {line}" for line in integrity[:20])
        return report
    if missing := REQUIRED_TABLES - tables:
        raise BackupError(f"{path} is not a memoflow database (no {', '.join(sorted(missing))})")
    engine = create_engine(f"sqlite:///{uri}&uri=true")
    try:
        with Session(engine) as session:
            verified = audit.verify(session)
    finally:
        engine.dispose()
    report.event_count = verified.event_count
    report.head_hashes = verified.head_hashes
    report.problems.extend(verified.problems)
    return report


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _copy_consistently(source: Path, target: Path) -> None:
    """SQLite's online backup of ``source`` into the new file ``target``, in one step (one
    read transaction: a consistent snapshot), as a single self-contained file."""
    try:
        with (
            closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)) as reading,
            closing(sqlite3.connect(target)) as writing,
        ):
            reading.backup(writing)
            # The copy keeps no -wal file of its own: it is one file to carry away.
            writing.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.DatabaseError as error:
        target.unlink(missing_ok=True)
        raise BackupError(f"{source} cannot be copied: {error}") from error
    _fsync(target)


def backup(url: str, target: Path) -> BackupReport:
    """Copy the database at ``url`` into ``target`` (replaced if it exists) and check the
    copy. The report's problems are the copy's (an unverifiable chain is copied too: a
    backup must not be lost because the database already has a problem)."""
    source = sqlite_path(url)
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    target = Path(target).resolve()
    if target == source:
        raise BackupError("the backup must not overwrite the database itself")
    if target.is_dir():
        raise BackupError(f"{target} is a directory; name a file")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    _copy_consistently(source, partial)
    try:
        report = check(partial)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    _fsync(target.parent)
    report.path = target
    return report


def _sidecars(database: Path) -> list[Path]:
    return [database.with_name(database.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def restore(url: str, source: Path, *, force: bool = False) -> BackupReport:
    """Replace the database at ``url`` with the backup ``source``. The backup is checked
    first and refused if it does not verify (unless ``force``); the files it replaces are
    kept beside the database. memoflow must not be running: a process that still has the
    old file open would go on writing to it."""
    database = sqlite_path(url)
    source = Path(source).resolve()
    if source == database:
        raise BackupError("the backup and the database are the same file")
    checked = check(source)
    if not checked.ok and not force:
        raise BackupError(
            f"{source} does not verify, nothing was changed: {checked.problems[0]}"
            " (restore --force restores it anyway)"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept: list[Path] = []
    for current in [database, *_sidecars(database)]:
        if current.exists():
            suffix = current.name.removeprefix(database.name)  # "", "-wal", ...
            aside = current.with_name(f"{database.name}.before-restore-{stamp}{suffix}")
            shutil.copy2(current, aside)
            kept.append(aside)
    incoming = database.with_name(f".{database.name}.restoring")
    incoming.unlink(missing_ok=True)
    database.parent.mkdir(parents=True, exist_ok=True)
    _copy_consistently(source, incoming)
    # The old write-ahead log belongs to the old file: left beside the new one, SQLite
    # would replay it into the restored database.
    for sidecar in _sidecars(database):
        sidecar.unlink(missing_ok=True)
    os.replace(incoming, database)
    _fsync(database.parent)
    report = check(database)
    report.kept = kept
    return report
