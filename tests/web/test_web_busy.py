"""A request that cannot have its lock in time (models.db.LOCK_TIMEOUT_MS: SQLite's busy
timeout, PostgreSQL's lock_timeout) answers 503 "busy" with Retry-After instead of
waiting for ever or failing with a 500: on both databases, through the pages and the
API, writing nothing, showing back what the user wrote; once the lock is free the same
request succeeds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from config import Config
from models import Memo, Opinion
from tests.conftest import ApiClient, Office
from tests.web.conftest import Web
from webapp import create_app
from webapp.db import database

LOCK_TIMEOUT_MS = 300
OPINION = "เห็นควรอนุมัติ <ตามเสนอ> & ดำเนินการต่อ"


@pytest.fixture
def busy_app(tmp_path: Path, database_url: str, engine: Engine) -> Iterator[Any]:
    config = Config(HOME=tmp_path, DATABASE_URL=database_url, SECRET_KEY="t", TESTING=True)
    app = create_app(config, LOCK_TIMEOUT_MS=LOCK_TIMEOUT_MS, WTF_CSRF_ENABLED=False)
    yield app
    database(app).engine.dispose()


@contextmanager
def memo_locked(app: Any, memo_id: int) -> Iterator[None]:
    """Another transaction holds the memo's row lock, as a decision being written does
    (on SQLite, the database's write lock, which its BEGIN IMMEDIATE takes)."""
    with database(app).engine.connect() as connection:
        connection.execute(select(Memo.id).where(Memo.id == memo_id).with_for_update())
        yield
        connection.rollback()


def _opinions(office: Office, memo_id: int) -> list[str]:
    return office.run(
        lambda s: list(s.scalars(select(Opinion.text).where(Opinion.memo_id == memo_id)))
    )


def test_a_decision_behind_a_held_lock_is_told_to_try_again(busy_app: Any) -> None:
    office = Office(database(busy_app).sessions)
    memo_id = office.submitted()
    head = Web(busy_app, office)
    head.login("head")
    version = office.memo(memo_id).version
    form = {"action": "endorse", "version": version, "opinion": OPINION}

    with memo_locked(busy_app, memo_id):
        started = time.monotonic()
        busy = head.post(f"/memos/{memo_id}/action", form)
        assert time.monotonic() - started < 5
    page = busy.get_data(as_text=True)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
    assert "ระบบกำลังบันทึกงานอื่นอยู่" in page and "ยังไม่ได้บันทึกสิ่งใด" in page
    # What the head wrote comes back, escaped, to be copied.
    assert "เห็นควรอนุมัติ &lt;ตามเสนอ&gt; &amp; ดำเนินการต่อ</textarea>" in page
    memo = office.memo(memo_id)
    assert (memo.state, memo.version, _opinions(office, memo_id)) == (
        "pending_head_of_office",
        version,
        [],
    )

    again = head.post(f"/memos/{memo_id}/action", form)
    assert again.status_code == 302
    assert office.memo(memo_id).state == "pending_permanent_secretary"
    assert _opinions(office, memo_id) == [OPINION]


def test_the_api_says_busy_with_a_stable_code(busy_app: Any) -> None:
    office = Office(database(busy_app).sessions)
    api = ApiClient(busy_app.test_client(), office)
    memo_id = office.submitted()
    api.token("head")

    with memo_locked(busy_app, memo_id):
        thai = api.act("head", memo_id, "endorse", opinion=OPINION)
        english = api.post(
            "head",
            f"/api/v1/memos/{memo_id}/actions",
            {"action": "endorse", "opinion": OPINION},
            headers={"Accept-Language": "en"},
        )
    for answer in (thai, english):
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        assert answer.json["error"]["code"] == "busy"
    assert thai.json["error"]["message"].startswith("ระบบกำลังบันทึกงานอื่นอยู่")
    assert english.json["error"]["message"].startswith("The system was busy")
    assert _opinions(office, memo_id) == []

    assert api.act("head", memo_id, "endorse", opinion=OPINION).status_code == 200
    assert _opinions(office, memo_id) == [OPINION]
