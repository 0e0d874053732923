"""Shared fixtures: a fresh database per test, the seed office, the app and API clients.

Every test runs on SQLite by default. With ``MEMOFLOW_TEST_DATABASE_URL`` set (CI sets it
to the PostgreSQL server on the machine), every test runs on that database instead.

Tests marked ``slow`` (the API fuzzer through the served stack, the accessibility sweep)
run only with ``MEMOFLOW_TEST_SLOW=1``: CI runs them once, on its PostgreSQL pass, and a
plain ``pytest`` on a laptop says it skipped them and why.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("MEMOFLOW_PASSWORD_HASH", "fast")

from sqlalchemy import Engine
from sqlalchemy.orm import Session, selectinload, sessionmaker

from config import Config
from models import Base, Memo, User
from models.db import make_engine, make_session_factory
from workflow import actions, seed
from workflow.accounts import create_token, find_user

RUN_SLOW = os.environ.get("MEMOFLOW_TEST_SLOW") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if RUN_SLOW:
        return
    skip = pytest.mark.skip(
        reason="slow: set MEMOFLOW_TEST_SLOW=1 to run it (CI's PostgreSQL pass does)"
    )
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


DATA = Path(__file__).parent / "data"
SEED_MEMO = json.loads((DATA / "memo-ita-2565.json").read_text(encoding="utf-8"))
SEED_CSV = DATA / "ita-measures-2565.csv"
PASSWORD = "correct-horse-9"


def seed_memo_fields() -> dict[str, str]:
    """The seed memo's fields as the API and the verbs take them."""
    return {
        "unit": SEED_MEMO["unit"],
        "subject": SEED_MEMO["subject"],
        "to": SEED_MEMO["to"],
        "background": SEED_MEMO["background"],
        "facts": SEED_MEMO["facts"],
        "proposal": SEED_MEMO["proposal"],
    }


# PostgreSQL databases whose schema this process has built, with the sequences to restart.
_built_schemas: dict[str, list[str]] = {}


def reset_schema(engine: Engine) -> None:
    """Give the test the models' schema with no rows and ids starting at 1.

    SQLite: each test has a new file; the schema is simply created. PostgreSQL: the schema
    is dropped and built once per process (the models may have changed since the last
    run), then emptied before every test with DELETEs in dependency order and restarted
    sequences: a few milliseconds instead of ~50 ms for drop_all + create_all, or ~20 ms
    for TRUNCATE (which must swap every table's files)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    if engine.dialect.name != "postgresql":
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        return
    key = engine.url.render_as_string(hide_password=False)
    if key in _built_schemas:
        try:
            with engine.begin() as connection:
                # A connection left open by an earlier test must fail the run, not hang it.
                connection.execute(text("SET LOCAL lock_timeout = '20s'"))
                for table in reversed(Base.metadata.sorted_tables):
                    connection.execute(table.delete())
                for sequence in _built_schemas[key]:
                    connection.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))
            return
        except DBAPIError:
            pass  # a test changed the schema itself: build it again
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with engine.connect() as connection:
        sequences = [
            connection.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": column.name},
            ).scalar_one()
            for table in Base.metadata.sorted_tables
            for column in table.primary_key.columns
            if column is table.autoincrement_column
        ]
        connection.rollback()
    _built_schemas[key] = [sequence for sequence in sequences if sequence]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return os.environ.get("MEMOFLOW_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    reset_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


class Office:
    """The seed office (อบต.ควนขนุน) and helpers that run each action in its own
    transaction, the way the web layer does."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        with sessions.begin() as session:
            self.organisation_id = seed.seed_organisation(session, PASSWORD).id

    def run(self, work: Callable[[Session], Any]) -> Any:
        with self.sessions.begin() as session:
            return work(session)

    @staticmethod
    def user(session: Session, username: str) -> User:
        user = find_user(session, username)
        assert user is not None, username
        return user

    def create(self, username: str = "officer", **fields: Any) -> int:
        values = seed_memo_fields() | fields
        return int(self.run(lambda s: actions.create_memo(s, self.user(s, username), **values).id))

    def act(self, username: str, action: str, memo_id: int, **options: Any) -> str:
        """Perform a workflow action; return the memo's new state."""

        def work(session: Session) -> str:
            if action == "edit":
                memo = actions.edit_memo(session, memo_id, self.user(session, username), **options)
            else:
                memo = actions.perform(
                    session, memo_id, self.user(session, username), action, **options
                )
            return memo.state

        return str(self.run(work))

    def memo(self, memo_id: int) -> Memo:
        with self.sessions() as session:
            memo = session.get(
                Memo,
                memo_id,
                options=[selectinload(Memo.opinions), selectinload(Memo.attachments)],
            )
            assert memo is not None
            session.expunge_all()
            return memo

    def submitted(self, username: str = "officer", **fields: Any) -> int:
        memo_id = self.create(username, **fields)
        self.act(username, "submit", memo_id)
        return memo_id

    def signed(self) -> int:
        memo_id = self.submitted()
        self.act("head", "endorse", memo_id, opinion="เห็นควรทราบ")
        self.act("palad", "endorse", memo_id, opinion="เห็นควรทราบและเผยแพร่")
        self.act("mayor", "sign", memo_id, decision="acknowledged", opinion="ทราบ")
        return memo_id


@pytest.fixture
def office(sessions: sessionmaker[Session]) -> Office:
    return Office(sessions)


# --- the web application ----------------------------------------------------------------


@pytest.fixture
def app(tmp_path: Path, database_url: str, engine: Engine) -> Any:
    from webapp import create_app

    config = Config(
        HOME=tmp_path, DATABASE_URL=database_url, SECRET_KEY="test-secret", TESTING=True
    )
    app = create_app(config)
    yield app
    from webapp.db import database

    database(app).engine.dispose()


@pytest.fixture
def app_office(app: Any) -> Office:
    from webapp.db import database

    return Office(database(app).sessions)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


class ApiClient:
    """The JSON API as each seed user sees it (one bearer token per user)."""

    def __init__(self, client: Any, office: Office) -> None:
        self.client = client
        self.office = office
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            self.tokens[username] = self.office.run(
                lambda s: create_token(s, self.office.user(s, username))
            )
        return self.tokens[username]

    def headers(self, username: str | None, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if username:
            headers["Authorization"] = f"Bearer {self.token(username)}"
        return headers

    def get(self, username: str | None, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.headers(username), **kwargs)

    def post(self, username: str | None, path: str, json: Any = None, **kwargs: Any) -> Any:
        headers = self.headers(username, **kwargs.pop("headers", {}))
        return self.client.post(path, json=json, headers=headers, **kwargs)

    def patch(self, username: str | None, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.patch(path, json=json, headers=self.headers(username), **kwargs)

    def delete(self, username: str | None, path: str, **kwargs: Any) -> Any:
        return self.client.delete(path, headers=self.headers(username), **kwargs)

    def act(self, username: str, memo_id: int, action: str, **body: Any) -> Any:
        return self.post(username, f"/api/v1/memos/{memo_id}/actions", {"action": action, **body})


@pytest.fixture
def api(client: Any, app_office: Office) -> ApiClient:
    return ApiClient(client, app_office)
