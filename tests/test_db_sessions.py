"""Reading and writing transactions: on SQLite a GET request reads in a deferred
transaction, so it does not queue behind a writer; a reading session refuses to write."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from models import Memo
from models.db import ReadOnlySessionError, make_session_factory
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
