"""Engines and sessions for SQLite (the embedded default) and PostgreSQL.

SQLite needs care to be correct under concurrent writers: pysqlite begins transactions
lazily, so two requests can both read and then collide when upgrading to a write lock.
Every transaction therefore starts with ``BEGIN IMMEDIATE`` (SQLAlchemy's documented
recipe), the journal is WAL and a busy timeout makes writers queue instead of failing.
With that, "row locks" on SQLite are the database-wide write lock, and the same service
code is correct on both databases.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

# How long a transaction waits for a lock before it fails (``is_lock_timeout``): on SQLite
# the database's write lock (the busy timeout), on PostgreSQL a row or table lock
# (``lock_timeout``; without it a request behind a stuck transaction would wait forever).
# The web layer answers such a failure with 503 "busy, try again".
LOCK_TIMEOUT_MS = 30_000
# Migrations wait longer: a second host upgrading at the same time waits for the first
# (docs/migrations.md), which may take minutes on a large database.
MIGRATION_LOCK_TIMEOUT_MS = 3_600_000
# SQLite's result codes and PostgreSQL's SQLSTATEs of a lock not had in time (or a
# deadlock, which PostgreSQL breaks by failing one of the two): trying again can succeed.
SQLITE_LOCK_ERRORS = frozenset({"SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_LOCKED"})
POSTGRES_LOCK_ERRORS = frozenset({"55P03", "40P01"})
# A database that cannot be reached or whose connection was lost (``is_disconnect``):
# PostgreSQL's admin_shutdown (pg_terminate_backend, a fast shutdown), crash_shutdown and
# cannot_connect_now (starting or stopping), and the whole class 08 (connection
# exceptions); SQLite's "unable to open database file" (the file or its directory is gone
# or unreadable). Nothing was written by the failed transaction.
POSTGRES_DISCONNECT_ERRORS = frozenset({"57P01", "57P02", "57P03"})
POSTGRES_CONNECTION_CLASS = "08"
SQLITE_UNAVAILABLE_ERRORS = frozenset({"SQLITE_CANTOPEN"})
# A full disk (``is_storage_full``): SQLite's "database or disk is full", PostgreSQL's
# disk_full, and the operating system's "no space left" or "quota exceeded" on any write.
SQLITE_FULL_ERRORS = frozenset({"SQLITE_FULL"})
POSTGRES_FULL_ERRORS = frozenset({"53100"})
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# Execution option marking an engine whose transactions only read (see ``read_only``).
READ_ONLY = "memoflow_read_only"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given without a driver."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


def make_engine(url: str, *, lock_timeout_ms: int | None = None, **kwargs: Any) -> Engine:
    """Create an engine configured for safe concurrent writes on either database; its
    transactions wait at most ``lock_timeout_ms`` (default ``LOCK_TIMEOUT_MS``) for a lock."""
    url = normalise_url(url)
    lock_timeout_ms = int(lock_timeout_ms or LOCK_TIMEOUT_MS)
    if not is_sqlite(url):
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _set_lock_timeout(dbapi_connection: Any, _record: Any) -> None:
            # Once per new connection of the pool; SET lasts for the connection's life.
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = {lock_timeout_ms}")
            dbapi_connection.commit()

        return engine

    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", lock_timeout_ms / 1000)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, emit BEGIN (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {lock_timeout_ms}")
        if ":memory:" not in url and url not in ("sqlite://", "sqlite+pysqlite://"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A reading transaction takes no write lock, so in WAL mode it neither waits for
        # writers nor makes them wait; everything else takes the write lock up front.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        # Straight to the driver: BEGIN is the same SQL either way, and exec_driver_sql
        # ran a whole statement execution (events, result, cursor) on every transaction
        # (benchmarks/RESULTS.md at 47590cd, seventh pass). Its errors are raised as SQLAlchemy's,
        # as they were, so that callers catching SQLAlchemyError still catch them.
        driver_connection = connection.connection.driver_connection
        try:
            driver_connection.execute("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise DBAPIError.instance(
                "BEGIN", None, error, sqlite3.Error, dialect=connection.dialect
            ) from error

    return engine


def is_lock_timeout(error: BaseException) -> bool:
    """Whether ``error`` (SQLAlchemy's, from either database) says a lock was not had in
    time (``LOCK_TIMEOUT_MS``) or a deadlock was broken: the transaction was rolled back
    and nothing was written, so the same request may simply be made again."""
    driver_error = getattr(error, "orig", None)
    if isinstance(driver_error, sqlite3.Error):
        return getattr(driver_error, "sqlite_errorname", "") in SQLITE_LOCK_ERRORS
    return getattr(driver_error, "sqlstate", None) in POSTGRES_LOCK_ERRORS


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error``, the driver's error it wraps, and the errors it was raised ``from``."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < 10:
        seen.add(id(current))
        yield current
        driver_error = getattr(current, "orig", None)
        if isinstance(driver_error, BaseException) and id(driver_error) not in seen:
            seen.add(id(driver_error))
            yield driver_error
        current = current.__cause__


def _is_psycopg_connection_error(error: BaseException) -> bool:
    """psycopg's own errors about the connection carry no SQLSTATE: the server could not
    be reached ("connection failed"), closed the connection unexpectedly, or the
    connection is closed already (OperationalError, InterfaceError)."""
    kind = type(error)
    return (
        kind.__module__.split(".")[0] == "psycopg"
        and getattr(error, "sqlstate", None) is None
        and any(base.__name__ in ("OperationalError", "InterfaceError") for base in kind.__mro__)
    )


def is_disconnect(error: BaseException) -> bool:
    """Whether ``error`` (SQLAlchemy's or the driver's, from either database) says the
    database cannot be reached or the request's connection to it was lost or terminated:
    the transaction did not commit, and the same request may be made again once the
    database answers (the pool's pre-ping replaces the dead connection). A failure of the
    COMMIT itself is included; whether that transaction committed is then not known."""
    for cause in _causes(error):
        if isinstance(cause, DisconnectionError):
            return True
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True  # the dialect recognised a disconnect
        if isinstance(cause, sqlite3.Error):
            if getattr(cause, "sqlite_errorname", "") in SQLITE_UNAVAILABLE_ERRORS:
                return True
            continue
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and (
            sqlstate in POSTGRES_DISCONNECT_ERRORS or sqlstate.startswith(POSTGRES_CONNECTION_CLASS)
        ):
            return True
        if _is_psycopg_connection_error(cause):
            return True
    return False


def is_storage_full(error: BaseException) -> bool:
    """Whether ``error`` says the disk (of the database, or of any file being written) is
    full. SQLite and PostgreSQL roll the failed transaction back whole; nothing was
    written, and the same request succeeds once space is freed."""
    for cause in _causes(error):
        if isinstance(cause, sqlite3.Error):
            full = getattr(cause, "sqlite_errorname", "") in SQLITE_FULL_ERRORS
        elif isinstance(cause, OSError):
            full = cause.errno in FULL_ERRNOS
        else:
            full = getattr(cause, "sqlstate", None) in POSTGRES_FULL_ERRORS
        if full:
            return True
    return False


def read_only(engine: Engine) -> Engine:
    """The same engine (same pool) for transactions that only read. On SQLite they begin
    DEFERRED instead of IMMEDIATE, so a page view never queues behind a decision being
    written; on PostgreSQL nothing changes. Sessions made on it refuse to flush changes
    (see ``make_session_factory``): a deferred SQLite transaction that later writes can
    fail at once with SQLITE_BUSY instead of waiting its turn."""
    return engine.execution_options(**{READ_ONLY: True})


class ReadOnlySessionError(RuntimeError):
    """A read-only session (one serving a GET request) was asked to write."""


def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
        raise ReadOnlySessionError(
            "this session only reads (a GET request): write in a POST or in a session of its own"
        )


def writing_connection(session: Session) -> Connection:
    """The session's connection, for Core writes (the audit chain, the register, a
    decision's opinion). The ORM's guard on reading sessions sees flushes only, so Core
    writes ask here first and a reading session refuses them the same way."""
    connection = session.connection()
    if connection.get_execution_options().get(READ_ONLY, False):
        raise ReadOnlySessionError("a reading session (a GET request) cannot write")
    return connection


def make_session_factory(engine: Engine, *, reading: bool = False) -> sessionmaker[Session]:
    """Sessions that keep objects usable after commit (views render after committing).
    With ``reading`` they run on ``read_only(engine)`` and refuse to write."""
    sessions = sessionmaker(bind=read_only(engine) if reading else engine, expire_on_commit=False)
    if reading:
        event.listen(sessions, "before_flush", _refuse_writes)
    return sessions
