"""The models and the migrations agree.

A database upgraded to the newest revision must be the database the models describe:
Alembic's ``compare_metadata`` finds no difference, and — because autogenerate never
compares CHECK constraints — a reflected snapshot of every table (columns, keys,
indexes, unique and CHECK constraints, all by name) equals that of a database made by
``create_all``. On SQLite always; on PostgreSQL when ``MEMOFLOW_TEST_POSTGRES_URL`` or a
PostgreSQL ``MEMOFLOW_TEST_DATABASE_URL`` is set (each case in a schema of its own, so
the tests sharing that database are not disturbed).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from config import Config
from models import Base, migrate
from models.db import make_engine, make_session_factory


def _postgres_url() -> str | None:
    for name in ("MEMOFLOW_TEST_POSTGRES_URL", "MEMOFLOW_TEST_DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgresql", "postgres:")):
            return url
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """A factory of URLs of new, empty databases on one backend."""
    if request.param == "sqlite":
        names = iter(range(1000))
        yield lambda: f"sqlite:///{tmp_path / f'db{next(names)}.sqlite3'}"
        return
    server = _postgres_url()
    if server is None:
        pytest.skip("no PostgreSQL: set MEMOFLOW_TEST_POSTGRES_URL or MEMOFLOW_TEST_DATABASE_URL")
    admin = make_engine(server, poolclass=NullPool)
    schemas: list[str] = []

    def new_schema() -> str:
        schema = f"migrations_test_{uuid.uuid4().hex[:12]}"
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        schemas.append(schema)
        # Every connection made from this URL works in the new schema only.
        url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    yield new_schema
    with admin.begin() as connection:
        for schema in schemas:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _normalised(sql: Any) -> str:
    return re.sub(r"\s+", " ", str(sql)).strip()


def schema_snapshot(url: str) -> dict[str, Any]:
    """Everything reflection says about each of the models' tables, by name."""
    engine: Engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            snapshot: dict[str, Any] = {}
            for table in sorted(Base.metadata.tables):
                snapshot[table] = {
                    "columns": [
                        (c["name"], str(c["type"]), c["nullable"])
                        for c in inspector.get_columns(table)
                    ],
                    "primary_key": inspector.get_pk_constraint(table),
                    "foreign_keys": sorted(
                        (
                            fk["name"],
                            tuple(fk["constrained_columns"]),
                            fk["referred_table"],
                            tuple(fk["referred_columns"]),
                        )
                        for fk in inspector.get_foreign_keys(table)
                    ),
                    "indexes": sorted(
                        (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                        for i in inspector.get_indexes(table)
                    ),
                    "unique": sorted(
                        (u["name"], tuple(u["column_names"]))
                        for u in inspector.get_unique_constraints(table)
                    ),
                    "checks": sorted(
                        (c["name"], _normalised(c["sqltext"]))
                        for c in inspector.get_check_constraints(table)
                    ),
                }
            connection.rollback()
    finally:
        engine.dispose()
    return snapshot


def create_all(url: str) -> None:
    engine = make_engine(url, poolclass=NullPool)
    try:
        Base.metadata.create_all(engine)
    finally:
        engine.dispose()


def test_there_is_one_head_and_revisions_are_numbered_in_order() -> None:
    scripts = list(migrate.script_directory().walk_revisions())
    assert migrate.head() == scripts[0].revision
    numbers = sorted(int(s.revision) for s in scripts)
    assert numbers == list(range(1, len(scripts) + 1))
    assert migrate.BASELINE_REVISION == "0001"


def test_upgraded_database_agrees_with_the_models(fresh_url: Callable[[], str]) -> None:
    migrated, created = fresh_url(), fresh_url()
    assert migrate.current(migrated) is None
    migrate.upgrade(migrated)
    assert migrate.current(migrated) == migrate.head()
    assert migrate.differences(migrated) == []

    create_all(created)
    expected, actual = schema_snapshot(created), schema_snapshot(migrated)
    assert set(actual) == set(Base.metadata.tables)
    for table in expected:
        assert actual[table] == expected[table], table
    # Every CHECK constraint of the models is there under its conventional name.
    for table in Base.metadata.sorted_tables:
        declared = {c.name for c in table.constraints if c.__class__.__name__ == "CheckConstraint"}
        reflected = {name for name, _sql in actual[table.name]["checks"]}
        assert declared <= reflected, table.name


def test_downgrade_to_base_and_up_again(fresh_url: Callable[[], str]) -> None:
    url = fresh_url()
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    assert migrate.current(url) is None
    engine = make_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {migrate.VERSION_TABLE}
        connection.rollback()
    engine.dispose()
    migrate.upgrade(url)
    assert migrate.differences(url) == []


def test_a_database_made_before_migrations_is_adopted(fresh_url: Callable[[], str]) -> None:
    # What ``create_all`` made before migrations existed is the schema of revision 0001
    # without Alembic's bookkeeping table.
    url = fresh_url()
    migrate.upgrade(url, "0001")
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
    finally:
        engine.dispose()
    assert migrate.current(url) is None
    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()
    assert migrate.differences(url) == []


def test_upgrading_indexes_the_memos_already_there_for_search(
    fresh_url: Callable[[], str],
) -> None:
    """Migration 0008 adds the text index (models.search) to a database that already has
    memos: they are found by a word of their subject right after the upgrade, as are
    memos written after it."""
    from tests.conftest import PASSWORD, seed_memo_fields
    from workflow import actions, queries, seed
    from workflow.accounts import find_user

    url = fresh_url()
    migrate.upgrade(url, "0007")
    engine = make_engine(url, poolclass=NullPool)
    sessions = make_session_factory(engine)

    def write(subject: str) -> int:
        with sessions.begin() as session:
            officer = find_user(session, "officer")
            assert officer is not None
            fields = seed_memo_fields() | {"subject": subject}
            return actions.create_memo(session, officer, **fields).id

    def found(text: str) -> list[int]:
        with sessions() as session:
            officer = find_user(session, "officer")
            assert officer is not None
            return [memo.id for memo in queries.search(session, officer, text=text).items]

    try:
        with sessions.begin() as session:
            seed.seed_organisation(session, PASSWORD)
        before = write("ขอซ่อมแซมถนนลาดยาง หมู่ที่ 3")
        write("ขอจัดซื้อวัสดุสำนักงาน")
        migrate.upgrade(url)
        assert found("ถนนลาดยาง") == [before]
        after = write("ขอขุดลอกคูระบายน้ำ หมู่ที่ 3")
        assert found("หมู่ที่ 3") == [after, before]
    finally:
        engine.dispose()


def test_the_cli_initialises_and_reports_the_revision(tmp_path: Path) -> None:
    from webapp import create_app
    from webapp.db import database

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    app = create_app(Config(HOME=tmp_path, DATABASE_URL=url, SECRET_KEY="x", TESTING=True))
    runner = app.test_cli_runner()
    try:
        assert "not migrated" in runner.invoke(args=["db", "current"]).output
        assert runner.invoke(args=["init-db"]).exit_code == 0
        assert runner.invoke(args=["db", "current"]).output.strip() == f"{migrate.head()} (head)"
        checked = runner.invoke(args=["db", "check"])
        assert checked.exit_code == 0, checked.output
        assert runner.invoke(args=["db", "downgrade", "0001"]).exit_code == 0
        assert "behind" in runner.invoke(args=["db", "current"]).output
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        assert migrate.current(url) == migrate.head()
    finally:
        database(app).engine.dispose()


def test_the_health_check_says_whether_the_worker_can_serve(
    fresh_url: Callable[[], str], tmp_path: Path
) -> None:
    """``GET /healthz``, what a load balancer asks each worker: 200 on a database at the
    code's revision; 503 with a stable code when the schema is behind (the code was
    upgraded without ``memoflow db upgrade``) or the database cannot be reached. Never
    cached, no cookie, nothing about the server told to an anonymous caller."""
    from webapp import create_app
    from webapp.db import database

    url = fresh_url()
    migrate.upgrade(url)
    app = create_app(Config(HOME=tmp_path, DATABASE_URL=url, SECRET_KEY="x", TESTING=True))
    client = app.test_client()
    try:
        answer = client.get("/healthz")
        assert answer.status_code == 200
        body = answer.json
        assert (body["database"], body["revision"]) == ("ok", migrate.head())
        # Chromium missing leaves the worker serving, "degraded" (tests/test_faults.py).
        assert body["status"] == ("ok" if body["pdf"] == "ok" else "degraded")
        assert answer.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in answer.headers

        migrate.downgrade(url, "0010")
        behind = client.get("/healthz")
        assert behind.status_code == 503 and behind.headers["Cache-Control"] == "no-store"
        error = behind.json["error"]
        assert (error["code"], error["revision"], error["expected"]) == (
            "schema_outdated",
            "0010",
            migrate.head(),
        )
        assert "memoflow db upgrade" in error["message"] and "ฐานข้อมูล" in error["message"]
        english = client.get("/healthz", headers={"Accept-Language": "en"}).json["error"]
        assert english["message"].startswith("The database schema is at revision 0010")
        migrate.upgrade(url)
        assert client.get("/healthz").status_code == 200
    finally:
        database(app).engine.dispose()

    # A database that cannot be reached: a SQLite file in a directory that is not there,
    # or a PostgreSQL server on a port nobody listens on.
    unreachable = (
        f"sqlite:///{tmp_path / 'gone' / 'db.sqlite3'}"
        if url.startswith("sqlite")
        else make_url(url).set(host="127.0.0.1", port=1).render_as_string(hide_password=False)
    )
    app = create_app(Config(HOME=tmp_path, DATABASE_URL=unreachable, SECRET_KEY="x", TESTING=True))
    try:
        down = app.test_client().get("/healthz")
        assert down.status_code == 503
        assert down.json["error"]["code"] == "database_unavailable"
        assert "gone" not in down.get_data(as_text=True)
        assert "port" not in down.get_data(as_text=True)
    finally:
        database(app).engine.dispose()
