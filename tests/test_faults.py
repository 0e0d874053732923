"""Answers that tell the truth when the database or its disk fails (issue 18, point 4).

A lost or terminated database connection answers ``503 database_unavailable`` with
Retry-After — JSON for the API, the layout's page for people — and nothing of the request
is written; a full disk answers ``503 storage_full``; ``/healthz`` probes a real write and
names the part that failed. Terminations are done the way an operator (or a fault
injector) does them: ``pg_terminate_backend`` of the request's own backend, from a second
connection. The full disk is a real one: a small tmpfs, filled.

PostgreSQL cases need ``MEMOFLOW_TEST_POSTGRES_URL`` (or ``MEMOFLOW_TEST_DATABASE_URL``
naming PostgreSQL); the full-disk cases need to mount a tmpfs (root, as in CI). Each skips
saying so otherwise.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from config import Config
from models import AuditEvent, Memo, Opinion, migrate
from models.db import LOCK_TIMEOUT_MS, is_disconnect, is_storage_full, make_engine
from tests.conftest import ApiClient, Office, reset_schema, seed_memo_fields
from tests.served.server import libpq_url
from tests.web.conftest import Web
from webapp import create_app
from webapp.db import database

OPINION = "เห็นควรอนุมัติ <ตามเสนอ> & ดำเนินการต่อ"
TYPED_BACK = "เห็นควรอนุมัติ &lt;ตามเสนอ&gt; &amp; ดำเนินการต่อ</textarea>"
UNAVAILABLE_TH = "ขณะนี้ติดต่อฐานข้อมูลไม่ได้"
NOTHING_SAVED_TH = "ยังไม่ได้บันทึกสิ่งใด"
STORAGE_FULL_TH = "พื้นที่จัดเก็บข้อมูลของระบบเต็ม"


def postgres_url() -> str | None:
    for name in ("MEMOFLOW_TEST_POSTGRES_URL", "MEMOFLOW_TEST_DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgresql", "postgres:")):
            return url
    return None


def _app(home: Path, url: str, **overrides: Any) -> Any:
    config = Config(HOME=home, DATABASE_URL=url, SECRET_KEY="faults", TESTING=True)
    return create_app(config, WTF_CSRF_ENABLED=False, **overrides)


@pytest.fixture
def pg_app(tmp_path: Path) -> Iterator[Any]:
    url = postgres_url()
    if url is None:
        pytest.skip(
            "no PostgreSQL to terminate connections on: set MEMOFLOW_TEST_POSTGRES_URL"
            " (or MEMOFLOW_TEST_DATABASE_URL) to a PostgreSQL database"
        )
    engine = make_engine(url)
    reset_schema(engine)
    engine.dispose()
    app = _app(tmp_path, url)
    yield app
    database(app).engine.dispose()


class Terminator:
    """Ends the request's own PostgreSQL backend with ``pg_terminate_backend`` from a
    second connection, once, at the moment chosen: before the first statement that
    writes, or just before the COMMIT is sent."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.admin_url = libpq_url(url)
        self.armed: str | None = None
        self.terminated: list[int] = []
        event.listen(engine, "before_cursor_execute", self._before_statement)
        event.listen(engine, "commit", self._before_commit)

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before_statement)
        event.remove(self.engine, "commit", self._before_commit)

    def _terminate(self, connection: Any) -> None:
        import psycopg

        self.armed = None
        pid = connection.connection.driver_connection.info.backend_pid
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            # Waits (up to 5 s) until the backend is gone (PostgreSQL 14 and later).
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        self.terminated.append(pid)

    def _before_statement(self, connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self.armed == "write" and statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            self._terminate(connection)

    def _before_commit(self, connection: Any) -> None:
        if self.armed == "commit":
            self._terminate(connection)


@pytest.fixture
def terminator(pg_app: Any) -> Iterator[Terminator]:
    url = postgres_url()
    assert url is not None
    killer = Terminator(database(pg_app).engine, url)
    yield killer
    killer.remove()


def _written(office: Office, memo_id: int) -> tuple[str, int, int, int]:
    """What a decision would have written: the memo's state and version, its opinions and
    the audit events."""
    memo = office.memo(memo_id)
    opinions = office.run(
        lambda s: s.scalar(select(func.count()).where(Opinion.memo_id == memo_id))
    )
    events = office.run(lambda s: s.scalar(select(func.count()).select_from(AuditEvent)))
    return memo.state, memo.version, int(opinions), int(events)


# --- the predicates ----------------------------------------------------------------------


def test_the_predicates_know_the_database_failures_of_both_drivers() -> None:
    import psycopg
    from psycopg import errors as pg

    def wrapped(driver_error: BaseException) -> OperationalError:
        return OperationalError("SELECT 1", {}, driver_error)  # type: ignore[arg-type]

    cantopen = sqlite3.OperationalError("unable to open database file")
    cantopen.sqlite_errorname = "SQLITE_CANTOPEN"  # type: ignore[attr-defined]
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorname = "SQLITE_FULL"  # type: ignore[attr-defined]
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorname = "SQLITE_BUSY"  # type: ignore[attr-defined]

    disconnects = [
        pg.AdminShutdown("terminating connection due to administrator command"),
        pg.CrashShutdown("terminating connection because of crash of another server process"),
        pg.CannotConnectNow("the database system is starting up"),
        pg.ConnectionFailure("connection failure"),
        psycopg.OperationalError("consuming input failed: server closed the connection"),
        psycopg.OperationalError("connection failed: Connection refused"),
        psycopg.InterfaceError("the connection is closed"),
        cantopen,
    ]
    for error in disconnects:
        assert is_disconnect(wrapped(error)), error
        assert is_disconnect(error), error
        assert not is_storage_full(wrapped(error)), error
    for error in (pg.DiskFull("could not extend file"), full, OSError(errno.ENOSPC, "full")):
        assert is_storage_full(wrapped(error)), error
        assert not is_disconnect(wrapped(error)), error
    # Raised from (``raise ... from``) a full disk: still a full disk.
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as cause:
            raise RuntimeError("could not save the upload") from cause
    except RuntimeError as error:
        assert is_storage_full(error)
    # Not failures of the database: a lock not had in time stays "busy"; a bad query is
    # a bug (500), not a lost connection.
    for error in (busy, pg.LockNotAvailable("lock timeout"), pg.UndefinedColumn("no column")):
        assert not is_disconnect(wrapped(error)) and not is_storage_full(wrapped(error))
    assert not is_storage_full(OSError(errno.EACCES, "Permission denied"))


# --- a database that cannot be reached ---------------------------------------------------


def _unreachable(tmp_path: Path) -> str:
    """A SQLite file in a directory that is not there, or a PostgreSQL server on a port
    nobody listens on — the backend the suite runs on."""
    url = os.environ.get("MEMOFLOW_TEST_DATABASE_URL", "")
    if url.startswith(("postgresql", "postgres:")):
        return make_url(url).set(host="127.0.0.1", port=1).render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path / 'gone' / 'memoflow.sqlite3'}"


def test_a_database_that_cannot_be_reached_answers_503_never_500(tmp_path: Path) -> None:
    app = _app(tmp_path, _unreachable(tmp_path))
    client = app.test_client()
    try:
        api = client.get("/api/v1/inbox", headers={"Authorization": "Bearer mf_anything"})
        assert api.status_code == 503 and api.headers["Retry-After"] == "10"
        assert api.json["error"]["code"] == "database_unavailable"
        assert api.json["error"]["message"].startswith(UNAVAILABLE_TH)
        english = client.get(
            "/api/v1/inbox",
            headers={"Authorization": "Bearer mf_anything", "Accept-Language": "en"},
        )
        assert english.json["error"]["message"].startswith("The database cannot be reached")
        assert "gone" not in api.get_data(as_text=True)

        # Signing in is a form: the site's page, in Thai, saying nothing was saved.
        page = client.post("/login", data={"username": "officer", "password": "x"})
        html = page.get_data(as_text=True)
        assert page.status_code == 503 and page.headers["Retry-After"] == "10"
        assert page.mimetype == "text/html"
        assert '<main id="main"' in html and "ติดต่อฐานข้อมูลไม่ได้</h1>" in html
        assert NOTHING_SAVED_TH in html and "Internal Server Error" not in html
    finally:
        database(app).engine.dispose()


# --- a terminated connection (PostgreSQL) -------------------------------------------------


def test_a_terminated_connection_answers_the_api_503_and_writes_nothing(
    pg_app: Any, terminator: Terminator
) -> None:
    office = Office(database(pg_app).sessions)
    api = ApiClient(pg_app.test_client(), office)
    memo_id = office.submitted()
    api.token("head")
    before = _written(office, memo_id)

    terminator.armed = "write"
    thai = api.act("head", memo_id, "endorse", opinion=OPINION)
    assert len(terminator.terminated) == 1, "the request's backend was not terminated"
    assert thai.status_code == 503 and thai.headers["Retry-After"] == "10"
    assert thai.mimetype == "application/json"
    assert thai.json["error"]["code"] == "database_unavailable"
    assert thai.json["error"]["message"].startswith(UNAVAILABLE_TH)
    assert NOTHING_SAVED_TH in thai.json["error"]["message"]
    assert _written(office, memo_id) == before

    terminator.armed = "write"
    english = api.post(
        "head",
        f"/api/v1/memos/{memo_id}/actions",
        {"action": "endorse", "opinion": OPINION},
        headers={"Accept-Language": "en"},
    )
    assert english.status_code == 503
    assert english.json["error"] == {
        "code": "database_unavailable",
        "message": "The database cannot be reached right now; nothing was saved."
        " Please try again in a moment.",
    }
    assert _written(office, memo_id) == before

    # The pool replaces the dead connections: the same request now succeeds, once.
    again = api.act("head", memo_id, "endorse", opinion=OPINION)
    assert again.status_code == 200 and again.json["state"] == "pending_permanent_secretary"
    state, version, opinions, events = _written(office, memo_id)
    assert (state, version, opinions, events) == (
        "pending_permanent_secretary",
        before[1] + 1,
        before[2] + 1,
        before[3] + 1,
    )


def test_a_terminated_connection_answers_a_form_with_the_sites_page(
    pg_app: Any, terminator: Terminator
) -> None:
    office = Office(database(pg_app).sessions)
    memo_id = office.submitted()
    head = Web(pg_app, office)
    head.login("head")
    before = _written(office, memo_id)
    form = {"action": "endorse", "version": before[1], "opinion": OPINION}

    terminator.armed = "write"
    answer = head.post(f"/memos/{memo_id}/action", form)
    assert len(terminator.terminated) == 1
    html = answer.get_data(as_text=True)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "10"
    assert answer.mimetype == "text/html"
    # The site's layout (Thai first), the heading and message, and what the head wrote.
    assert '<html lang="th">' in html and '<main id="main"' in html
    assert "ติดต่อฐานข้อมูลไม่ได้</h1>" in html
    assert UNAVAILABLE_TH in html and NOTHING_SAVED_TH in html
    assert TYPED_BACK in html
    assert _written(office, memo_id) == before

    # Still signed in; sending the form again works.
    again = head.post(f"/memos/{memo_id}/action", form)
    assert again.status_code == 302
    assert _written(office, memo_id)[0] == "pending_permanent_secretary"


def test_a_connection_lost_at_the_commit_does_not_claim_nothing_was_saved(
    pg_app: Any, terminator: Terminator
) -> None:
    """The connection dies while committing: the client cannot know whether the COMMIT
    arrived, and the answer says so instead of "nothing was saved"."""
    office = Office(database(pg_app).sessions)
    api = ApiClient(pg_app.test_client(), office)
    memo_id = office.submitted()
    api.token("head")

    terminator.armed = "commit"
    answer = api.act("head", memo_id, "endorse", opinion=OPINION)
    assert len(terminator.terminated) == 1, "no COMMIT was sent: is there a commit point?"
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "10"
    error = answer.json["error"]
    assert error["code"] == "database_unavailable"
    assert "ไม่ทราบว่าบันทึกสำเร็จหรือไม่" in error["message"]
    assert NOTHING_SAVED_TH not in error["message"]

    # The same on a page, and the same form sent again (its key with it) acts once.
    head = Web(pg_app, office)
    head.login("head")
    before = _written(office, memo_id)
    form = {
        "action": "endorse",
        "version": before[1],
        "opinion": OPINION,
        "idempotency_key": uuid.uuid4().hex,
    }
    terminator.armed = "commit"
    page = head.post(f"/memos/{memo_id}/action", form)
    assert len(terminator.terminated) == 2
    html = page.get_data(as_text=True)
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "ไม่ทราบว่าบันทึกสำเร็จหรือไม่" in html and NOTHING_SAVED_TH not in html
    assert "Idempotency-Key" not in html and TYPED_BACK in html
    assert head.post(f"/memos/{memo_id}/action", form).status_code == 302
    assert head.post(f"/memos/{memo_id}/action", form).status_code == 302
    state, version, opinions, events = _written(office, memo_id)
    assert (state, version, opinions, events) == (
        "pending_permanent_secretary",
        before[1] + 1,
        before[2] + 1,
        before[3] + 1,
    )


def test_a_page_read_on_a_terminated_connection_answers_503(
    pg_app: Any, terminator: Terminator
) -> None:
    office = Office(database(pg_app).sessions)
    api = ApiClient(pg_app.test_client(), office)
    api.token("officer")

    def terminate_on_read(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM memo" in statement and not terminator.terminated:
            terminator._terminate(connection)

    event.listen(database(pg_app).engine, "before_cursor_execute", terminate_on_read)
    try:
        answer = api.get("officer", "/api/v1/memos")
    finally:
        event.remove(database(pg_app).engine, "before_cursor_execute", terminate_on_read)
    assert terminator.terminated
    assert answer.status_code == 503 and answer.json["error"]["code"] == "database_unavailable"
    # A read saves nothing either way; the message does not talk about saving.
    assert answer.json["error"]["message"] == "ขณะนี้ติดต่อฐานข้อมูลไม่ได้ กรุณาลองใหม่ภายหลัง"
    assert api.get("officer", "/api/v1/memos").status_code == 200


# --- a full disk ----------------------------------------------------------------------------


def test_a_full_disk_anywhere_answers_503_storage_full(tmp_path: Path) -> None:
    """``OSError(ENOSPC)`` from any write in a request (a file, not the database)."""
    url = f"sqlite:///{tmp_path / 'memoflow.sqlite3'}"
    app = _app(tmp_path, url)

    def write_somewhere() -> Any:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "upload"))

    app.add_url_rule("/api/v1/_write", "write_somewhere", write_somewhere, methods=["POST"])
    app.add_url_rule("/_write", "write_page", write_somewhere, methods=["POST"])
    try:
        client = app.test_client()
        answer = client.post("/api/v1/_write")
        assert answer.status_code == 503 and answer.json["error"]["code"] == "storage_full"
        assert answer.json["error"]["message"].startswith(STORAGE_FULL_TH)
        assert str(tmp_path) not in answer.get_data(as_text=True)
        page = client.post("/_write", data={"opinion": OPINION})
        html = page.get_data(as_text=True)
        assert page.status_code == 503 and page.mimetype == "text/html"
        assert "พื้นที่จัดเก็บข้อมูลเต็ม</h1>" in html and STORAGE_FULL_TH in html
        assert TYPED_BACK in html
    finally:
        database(app).engine.dispose()


def test_postgresql_disk_full_answers_503_storage_full(pg_app: Any) -> None:
    """PostgreSQL's own disk_full (SQLSTATE 53100, raised as the server raises it when a
    table cannot grow), through the real driver: 503 storage_full, nothing written."""
    office = Office(database(pg_app).sessions)
    api = ApiClient(pg_app.test_client(), office)
    api.token("officer")
    count = select(func.count()).select_from(Memo)
    before = office.run(lambda s: s.scalar(count))
    with database(pg_app).engine.begin() as connection:
        connection.execute(
            text(
                "CREATE FUNCTION faults_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$"
                " BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'"
                " USING ERRCODE = 'disk_full'; END $$"
            )
        )
        connection.execute(
            text(
                "CREATE TRIGGER faults_disk_full BEFORE INSERT ON memo"
                " FOR EACH ROW EXECUTE FUNCTION faults_disk_full()"
            )
        )
    try:
        answer = api.post("officer", "/api/v1/memos", seed_memo_fields())
    finally:
        with database(pg_app).engine.begin() as connection:
            connection.execute(text("DROP TRIGGER faults_disk_full ON memo"))
            connection.execute(text("DROP FUNCTION faults_disk_full()"))
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "60"
    assert answer.json["error"]["code"] == "storage_full"
    assert answer.json["error"]["message"].startswith(STORAGE_FULL_TH)
    assert office.run(lambda s: s.scalar(count)) == before
    assert api.post("officer", "/api/v1/memos", seed_memo_fields()).status_code == 201


@contextmanager
def tmpfs(mountpoint: Path, size: str = "4m") -> Iterator[Path]:
    """A small tmpfs mounted on ``mountpoint`` (created), unmounted afterwards; the test
    is skipped, saying why, where mounting is not permitted (it needs root, as in CI)."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(
            "cannot mount a small tmpfs to fill (needs root, as in CI): "
            + (mounted.stderr.strip() or f"mount exited {mounted.returncode}")
        )
    try:
        yield mountpoint
    finally:
        if subprocess.run(["umount", str(mountpoint)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mountpoint)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs."""
    with tmpfs(tmp_path / "disk") as mountpoint:
        yield mountpoint


@contextmanager
def disk_filled(directory: Path) -> Iterator[None]:
    """Fill the filesystem of ``directory`` to the last block; free it afterwards."""
    filler = directory / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        block = b"\0" * 65536
        while True:
            try:
                os.write(descriptor, block)
            except OSError as error:
                assert error.errno == errno.ENOSPC
                if len(block) == 1:
                    break
                block = block[: len(block) // 2]
    finally:
        os.close(descriptor)
    assert os.statvfs(directory).f_bavail == 0
    try:
        yield
    finally:
        filler.unlink()


def _check_database(engine: Engine) -> tuple[str, int]:
    with engine.connect() as connection:
        integrity = connection.execute(text("PRAGMA integrity_check")).scalar_one()
        memos = connection.execute(select(func.count()).select_from(Memo)).scalar_one()
    return str(integrity), int(memos)


def test_a_full_disk_answers_503_storage_full_and_writes_nothing(small_disk: Path) -> None:
    """The memoflow home and its SQLite database on a small disk, filled: writes answer
    503 storage_full (API and pages), /healthz turns 503 while it lasts and 200 after;
    nothing is half written, and the same requests succeed once space is freed."""
    from workflow import audit

    url = f"sqlite:///{small_disk / 'memoflow.sqlite3'}"
    migrate.upgrade(url)
    app = _app(small_disk, url)
    office = Office(database(app).sessions)
    api = ApiClient(app.test_client(), office)
    memo_id = office.submitted()
    api.token("officer")
    head = Web(app, office)
    head.login("head")
    health = app.test_client()
    engine = database(app).engine
    assert health.get("/healthz").json["database"] == "ok"
    before = _written(office, memo_id)
    memos_before = _check_database(engine)
    form = {"action": "endorse", "version": before[1], "opinion": OPINION}

    try:
        with disk_filled(small_disk):
            created = api.post("officer", "/api/v1/memos", seed_memo_fields())
            assert created.status_code == 503, created.get_data(as_text=True)
            assert created.headers["Retry-After"] == "60"
            assert created.json["error"]["code"] == "storage_full"
            assert created.json["error"]["message"].startswith(STORAGE_FULL_TH)
            english = api.post(
                "officer",
                "/api/v1/memos",
                seed_memo_fields(),
                headers={"Accept-Language": "en"},
            )
            assert english.json["error"]["message"].startswith("The server's storage is full")

            page = head.post(f"/memos/{memo_id}/action", form)
            html = page.get_data(as_text=True)
            assert page.status_code == 503 and page.mimetype == "text/html"
            assert "พื้นที่จัดเก็บข้อมูลเต็ม</h1>" in html and STORAGE_FULL_TH in html
            assert TYPED_BACK in html

            sick = health.get("/healthz")
            assert sick.status_code == 503 and sick.headers["Cache-Control"] == "no-store"
            assert sick.json["error"]["code"] == "storage_full"
            assert sick.json["error"]["part"] == "database"
            assert sick.json["error"]["parts"]["database"] == "storage_full"
            assert "พื้นที่จัดเก็บของฐานข้อมูลเต็ม" in sick.json["error"]["message"]
            # Reading still works on a full disk.
            assert api.get("officer", f"/api/v1/memos/{memo_id}").status_code == 200
            assert _written(office, memo_id) == before
            leftovers = [p.name for p in small_disk.iterdir() if p.name.startswith(".memoflow")]
            assert leftovers == [], "the health probe left its file behind"

        assert health.get("/healthz").status_code == 200
        assert _check_database(engine) == memos_before  # ("ok", same number of memos)
        with database(app).sessions() as session:
            assert audit.verify(session).ok
        assert _written(office, memo_id) == before

        # Space again: the very same requests succeed, once each.
        assert api.post("officer", "/api/v1/memos", seed_memo_fields()).status_code == 201
        assert head.post(f"/memos/{memo_id}/action", form).status_code == 302
        assert _check_database(engine) == ("ok", memos_before[1] + 1)
        assert _written(office, memo_id)[0] == "pending_permanent_secretary"
    finally:
        engine.dispose()


def test_a_full_disk_at_first_start_leaves_no_empty_secret_key(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The secret key is generated into the home at the first start. On a full disk that
    start fails saying so, and leaves nothing: an empty key file would have been taken as
    the key by the next start (and one left by an older version is replaced)."""
    monkeypatch.delenv("MEMOFLOW_SECRET_KEY", raising=False)
    home = small_disk / "home"
    home.mkdir()
    with disk_filled(small_disk), pytest.raises(OSError) as failed:
        Config(HOME=home, DATABASE_URL="sqlite://")
    assert failed.value.errno == errno.ENOSPC
    assert list(home.iterdir()) == []

    key = Config(HOME=home, DATABASE_URL="sqlite://").SECRET_KEY
    assert len(key) == 64 and int(key, 16) >= 0
    assert (home / "secret_key").stat().st_mode & 0o777 == 0o600
    again = Config(HOME=home, DATABASE_URL="sqlite://").SECRET_KEY
    assert again == key
    (home / "secret_key").write_text("", encoding="utf-8")
    assert len(Config(HOME=home, DATABASE_URL="sqlite://").SECRET_KEY) == 64


# --- /healthz -----------------------------------------------------------------------------


@pytest.fixture
def healthy_app(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Apps on a migrated database of their own: a SQLite file, or on the PostgreSQL pass
    (MEMOFLOW_TEST_DATABASE_URL) a schema of its own, dropped afterwards."""
    server = os.environ.get("MEMOFLOW_TEST_DATABASE_URL", "")
    admin: Engine | None = None
    if server.startswith(("postgresql", "postgres:")):
        schema = f"faults_{uuid.uuid4().hex[:12]}"
        admin = make_engine(server, poolclass=NullPool)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = (
            make_url(server)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    else:
        url = f"sqlite:///{tmp_path / 'healthy.sqlite3'}"
    migrate.upgrade(url)
    apps: list[Any] = []

    def make(**overrides: Any) -> Any:
        apps.append(_app(tmp_path, url, **overrides))
        return apps[-1]

    yield make
    for app in apps:
        database(app).engine.dispose()
    if admin is not None:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_the_health_check_names_each_part(
    healthy_app: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chromium missing or Redis down leave the worker serving (200, "degraded", naming
    the part, saying nothing of where Chromium was looked for); Redis is a part only when
    the login limit is kept there."""
    app = healthy_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    client = app.test_client()
    monkeypatch.setenv("MEMOFLOW_CHROMIUM", str(tmp_path / "no-chromium"))
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    body = answer.json
    assert (body["status"], body["database"], body["redis"], body["pdf"]) == (
        "degraded",
        "ok",
        "unavailable",
        "unavailable",
    )
    assert "no-chromium" not in answer.get_data(as_text=True)

    redis_url = os.environ.get("MEMOFLOW_TEST_REDIS_URL")
    if redis_url:
        app.config["RATELIMIT_STORAGE_URI"] = redis_url
        app.extensions.pop("memoflow.health.redis", None)
        assert client.get("/healthz").json["redis"] == "ok"
    app.config["RATELIMIT_STORAGE_URI"] = "memory://"
    assert "redis" not in client.get("/healthz").json


def test_the_health_check_reports_a_database_that_cannot_write(
    healthy_app: Callable[..., Any],
) -> None:
    """A database that answers reads but refuses writes (SQLite's ``query_only``, as a
    read-only file would; PostgreSQL's read-only transactions, as on a standby): 503
    database_cannot_write, and 200 again once it writes."""
    app = healthy_app()
    engine = database(app).engine
    client = app.test_client()
    assert client.get("/healthz").json["database"] == "ok"
    postgresql = engine.dialect.name == "postgresql"

    def read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if postgresql:
            cursor.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()
        else:
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    engine.dispose()
    event.listen(engine, "connect", read_only)
    sick = client.get("/healthz")
    assert sick.status_code == 503, sick.get_data(as_text=True)
    error = sick.json["error"]
    assert (error["code"], error["part"]) == ("database_cannot_write", "database")
    assert error["message"].startswith("ฐานข้อมูลอ่านได้แต่บันทึกไม่ได้")
    event.remove(engine, "connect", read_only)
    engine.dispose()
    assert client.get("/healthz").json["database"] == "ok"


def test_the_health_check_is_not_failed_by_a_writer_holding_the_lock(tmp_path: Path) -> None:
    """SQLite: a writer holding the write lock makes the probe wait at most
    PROBE_LOCK_TIMEOUT_MS, then report the database "busy" (200: it answers)."""
    import time

    from webapp.health import PROBE_LOCK_TIMEOUT_MS

    url = f"sqlite:///{tmp_path / 'busy.sqlite3'}"
    migrate.upgrade(url)
    app = _app(tmp_path, url)
    client = app.test_client()
    writer = sqlite3.connect(tmp_path / "busy.sqlite3", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        answer = client.get("/healthz")
        waited = time.monotonic() - started
        assert answer.status_code == 200
        assert (answer.json["status"], answer.json["database"]) == ("degraded", "busy")
        assert PROBE_LOCK_TIMEOUT_MS / 1000 <= waited < PROBE_LOCK_TIMEOUT_MS / 1000 + 3
        writer.execute("ROLLBACK")
        assert client.get("/healthz").json["database"] == "ok"
        # The probe gave the pooled connection its own busy timeout back (the request's
        # session had the other one).
        engine = database(app).engine
        pooled = [engine.raw_connection() for _ in range(2)]
        try:
            timeouts = [
                c.driver_connection.execute("PRAGMA busy_timeout").fetchone()[0] for c in pooled
            ]  # type: ignore[union-attr]
        finally:
            for connection in pooled:
                connection.close()
        assert timeouts == [LOCK_TIMEOUT_MS, LOCK_TIMEOUT_MS]
    finally:
        writer.close()
        database(app).engine.dispose()
