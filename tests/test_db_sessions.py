"""Reading and writing transactions: on SQLite a GET request reads in a deferred
transaction, so it does not queue behind a writer; a reading session refuses to write;
writers queue for SQLite's write lock and give up, with a database error, only after the
busy timeout."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from models import Memo
from models.db import ReadOnlySessionError, is_lock_timeout, make_engine, make_session_factory
from tests.conftest import ApiClient, Office


def test_a_reading_session_refuses_to_write(
    engine: Engine, sessions: sessionmaker[Session], office: Office
) -> None:
    memo_id = office.create()
    reading = make_session_factory(engine, reading=True)
    with reading() as session:
        memo = session.get(Memo, memo_id)
        assert memo is not None and memo.subject
        memo.subject = "changed"
        with pytest.raises(ReadOnlySessionError):
            session.flush()
        session.rollback()
    assert office.memo(memo_id).subject != "changed"


def test_get_does_not_wait_for_a_writer(engine: Engine, api: ApiClient, app: Any) -> None:
    memo_id = api.office.create()
    api.token("officer")
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL readers never wait for writers")
    from webapp.db import database

    writer = database(app).sessions()
    try:
        # Hold the database's write lock, as a decision being written does.
        writer.execute(Memo.__table__.select().limit(1))
        assert writer.in_transaction()
        started = time.perf_counter()
        response = api.get("officer", f"/api/v1/memos/{memo_id}")
        assert response.status_code == 200
        assert time.perf_counter() - started < 5  # the busy timeout is 30 s
    finally:
        writer.rollback()
        writer.close()


def test_a_writer_waits_for_the_write_lock_and_takes_it_when_it_is_free(
    tmp_path: Path,
) -> None:
    """On SQLite a second writer waits while the first holds the write lock, then writes;
    it does not fail, and what the first wrote is there before what it writes."""
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE entry (n INTEGER)"))
    released = threading.Event()

    def second_writer() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO entry VALUES (2)"))
        released.set()

    with engine.begin() as first:
        first.execute(text("INSERT INTO entry VALUES (1)"))
        waiting = threading.Thread(target=second_writer)
        waiting.start()
        assert not released.wait(0.3)  # still waiting for the lock
    waiting.join(10)
    assert released.is_set()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM entry ORDER BY rowid")).scalars().all() == [
            1,
            2,
        ]
    engine.dispose()


def test_a_writer_that_waits_too_long_fails_with_a_database_error(tmp_path: Path) -> None:
    """Past the busy timeout the waiting writer gets SQLAlchemy's OperationalError ("the
    database is locked"), which callers catching SQLAlchemyError handle (an error page's
    inbox count, for one), and the connection works again afterwards."""
    engine = make_engine(f"sqlite:///{tmp_path / 'locked.db'}", lock_timeout_ms=200)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE entry (n INTEGER)"))
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked") as raised, engine.begin() as writing:
            writing.execute(text("INSERT INTO entry VALUES (1)"))
        assert 0.2 <= time.monotonic() - started < 5
        assert is_lock_timeout(raised.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO entry VALUES (1)"))
    engine.dispose()
