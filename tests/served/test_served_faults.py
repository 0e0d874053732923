"""Faults through ``memoflow serve`` (gunicorn), the way an operator or a fault injector
causes them: every PostgreSQL backend of the served database terminated again and again
while clients work, and the SQLite database's disk filled.

The answers must tell the truth: 503 JSON ``database_unavailable`` (or a normal answer
once the pool's pre-ping has reconnected) — never gunicorn's HTML "Internal Server Error"
— and the layout's page for people; every create acknowledged exists, and a create
retried under its Idempotency-Key exists once. A full disk answers 503 ``storage_full``
and /healthz says so until space is freed.

Both start a stack of their own (about 45 s each), so they are marked ``slow``: CI runs
them once, on its PostgreSQL pass (the full disk is SQLite's on either pass).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import seed_memo_fields
from tests.served.server import ServedStack, libpq_url, own_database, serve
from tests.test_faults import disk_filled, postgres_url, tmpfs

TIMEOUT = 60
STORM_S = 4.0
TERMINATE_EVERY_S = 0.05
CLIENTS = 4
MARKER = "ทดสอบความทนทาน"


@pytest.fixture
def served_on_postgresql(tmp_path: Path) -> Iterator[ServedStack]:
    url = postgres_url()
    if url is None:
        pytest.skip(
            "no PostgreSQL whose connections to terminate: set MEMOFLOW_TEST_POSTGRES_URL"
            " (or MEMOFLOW_TEST_DATABASE_URL) to a PostgreSQL database"
        )
    from sqlalchemy.engine import make_url

    name = f"{make_url(url).database}_served_faults"
    with (
        own_database(url, name) as database_url,
        serve(tmp_path / "home", database_url=database_url, workers=2) as stack,
    ):
        yield stack


def _api(stack: ServedStack, username: str) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {stack.token(username)}"
    return http


def _fields(key: str) -> dict[str, str]:
    return seed_memo_fields() | {"subject": f"{MARKER} {key}"}


def _terminate_all(database_url: str) -> int:
    """pg_terminate_backend for every other backend of the served database."""
    import psycopg
    from sqlalchemy.engine import make_url

    database = make_url(database_url).database
    with psycopg.connect(libpq_url(database_url), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return sum(1 for (done,) in rows if done)


def _assert_truthful_json(answer: requests.Response, where: str) -> None:
    """A normal JSON answer, or 503 database_unavailable with Retry-After; never 500,
    never HTML."""
    assert answer.headers.get("Content-Type", "").startswith("application/json"), (
        where,
        answer.status_code,
        answer.text[:500],
    )
    if answer.status_code == 503:
        assert answer.json()["error"]["code"] == "database_unavailable", answer.text
        assert answer.headers.get("Retry-After"), where
    else:
        assert answer.status_code in (200, 201), (where, answer.status_code, answer.text[:500])


@pytest.mark.slow
def test_terminated_connections_answer_503_json_never_gunicorns_html(
    served_on_postgresql: ServedStack,
) -> None:
    stack = served_on_postgresql
    officer = _api(stack, "officer")
    head = requests.Session()
    stack.login(head, "head")
    answers: list[tuple[str, requests.Response]] = []
    creates: dict[str, list[requests.Response]] = {}
    problems: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def create_memos() -> None:
        while not stop.is_set():
            key = uuid.uuid4().hex
            answer = officer.post(
                f"{stack.url}/api/v1/memos",
                json=_fields(key),
                headers={"Idempotency-Key": key},
                timeout=TIMEOUT,
            )
            with lock:
                creates[key] = [answer]
                answers.append(("create", answer))

    def read_memos() -> None:
        while not stop.is_set():
            answer = officer.get(f"{stack.url}/api/v1/memos", timeout=TIMEOUT)
            with lock:
                answers.append(("list", answer))

    def read_pages() -> None:
        while not stop.is_set():
            answer = head.get(f"{stack.url}/memos", timeout=TIMEOUT)
            with lock:
                answers.append(("page", answer))

    def guarded(work: Any) -> Any:
        def run() -> None:
            try:
                work()
            except Exception as error:  # a dropped connection is an answer too: record it
                with lock:
                    problems.append(f"{work.__name__}: {error!r}")

        return run

    threads = [
        threading.Thread(target=guarded(work))
        for work in (create_memos, create_memos, read_memos, read_pages)[:CLIENTS]
    ]
    for thread in threads:
        thread.start()
    terminated = 0
    deadline = time.monotonic() + STORM_S
    try:
        while time.monotonic() < deadline:
            terminated += _terminate_all(stack.database_url)
            time.sleep(TERMINATE_EVERY_S)
    finally:
        stop.set()
        for thread in threads:
            thread.join(TIMEOUT)

    assert problems == [], problems
    assert terminated > 0, "no backend was terminated"
    statuses = Counter((kind, answer.status_code) for kind, answer in answers)
    print(f"terminated {terminated} backends; answers: {dict(statuses)}")
    for kind, answer in answers:
        if kind == "page":
            assert "Internal Server Error" not in answer.text
            assert answer.headers.get("Content-Type", "").startswith("text/html")
            if answer.status_code == 503:
                assert '<main id="main"' in answer.text
                assert "ติดต่อฐานข้อมูลไม่ได้" in answer.text
            else:
                assert answer.status_code == 200, (answer.status_code, answer.text[:500])
        else:
            _assert_truthful_json(answer, kind)
    assert stack.alive()
    # Nothing escaped the application to gunicorn (its "Error handling request").
    assert "Error handling request" not in stack.log()

    # The database is left alone now: every create not acknowledged is sent again under
    # its key; each key ends with exactly one memo, the one its answer names.
    for key, tries in creates.items():
        while tries[-1].status_code != 201:
            assert len(tries) < 5, [t.text for t in tries]
            time.sleep(0.2)
            tries.append(
                officer.post(
                    f"{stack.url}/api/v1/memos",
                    json=_fields(key),
                    headers={"Idempotency-Key": key},
                    timeout=TIMEOUT,
                )
            )
    import psycopg

    with psycopg.connect(libpq_url(stack.database_url)) as connection:
        rows = connection.execute(
            "SELECT id, subject FROM memo WHERE subject LIKE %s", (f"{MARKER} %",)
        ).fetchall()
    saved = {subject.removeprefix(f"{MARKER} "): memo_id for memo_id, subject in rows}
    assert len(saved) == len(rows), "a create was done twice"
    assert set(saved) == set(creates), "an acknowledged create is missing, or one appeared"
    for key, tries in creates.items():
        assert tries[-1].json()["id"] == saved[key]


@pytest.fixture
def served_on_a_small_disk(tmp_path: Path) -> Iterator[tuple[ServedStack, Path]]:
    """The stack's SQLite database on a 16 MiB tmpfs (its home, with the log, beside it on
    the ordinary disk, so that the server's own log still has room)."""
    with (
        tmpfs(tmp_path / "disk", "16m") as disk,
        serve(
            tmp_path / "home", database_url=f"sqlite:///{disk / 'memoflow.sqlite3'}", workers=2
        ) as stack,
    ):
        yield stack, disk


@pytest.mark.slow
def test_a_full_disk_answers_503_storage_full_through_gunicorn(
    served_on_a_small_disk: tuple[ServedStack, Path],
) -> None:
    stack, disk = served_on_a_small_disk
    officer = _api(stack, "officer")
    memo = officer.post(f"{stack.url}/api/v1/memos", json=_fields("draft"), timeout=TIMEOUT)
    assert memo.status_code == 201, memo.text
    memo_id = memo.json()["id"]
    submitted = officer.post(
        f"{stack.url}/api/v1/memos/{memo_id}/actions", json={"action": "submit"}, timeout=TIMEOUT
    )
    assert submitted.status_code == 200, submitted.text
    head = requests.Session()
    stack.login(head, "head")
    page = head.get(f"{stack.url}/memos/{memo_id}", timeout=TIMEOUT)
    form = {
        "action": "endorse",
        "opinion": "เห็นควรอนุมัติ",
        "version": re.search(r'name="version" value="(\d+)"', page.text).group(1),  # type: ignore[union-attr]
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1),  # type: ignore[union-attr]
    }
    assert requests.get(f"{stack.url}/healthz", timeout=TIMEOUT).status_code == 200

    with disk_filled(disk):
        created = officer.post(f"{stack.url}/api/v1/memos", json=_fields("full"), timeout=TIMEOUT)
        assert created.status_code == 503, created.text
        assert created.headers["Content-Type"].startswith("application/json")
        assert created.json()["error"]["code"] == "storage_full"
        assert created.json()["error"]["message"].startswith("พื้นที่จัดเก็บข้อมูลของระบบเต็ม")
        assert created.headers["Retry-After"] == "60"

        endorsed = head.post(f"{stack.url}/memos/{memo_id}/action", data=form, timeout=TIMEOUT)
        assert endorsed.status_code == 503, endorsed.text[:500]
        assert endorsed.headers["Content-Type"].startswith("text/html")
        assert "พื้นที่จัดเก็บข้อมูลเต็ม</h1>" in endorsed.text
        assert "Internal Server Error" not in endorsed.text

        sick = requests.get(f"{stack.url}/healthz", timeout=TIMEOUT)
        assert sick.status_code == 503
        assert (sick.json()["error"]["code"], sick.json()["error"]["part"]) == (
            "storage_full",
            "database",
        )

    assert requests.get(f"{stack.url}/healthz", timeout=TIMEOUT).status_code == 200
    again = officer.post(f"{stack.url}/api/v1/memos", json=_fields("full"), timeout=TIMEOUT)
    assert again.status_code == 201, again.text
    assert head.post(f"{stack.url}/memos/{memo_id}/action", data=form, timeout=TIMEOUT).ok
    state = officer.get(f"{stack.url}/api/v1/memos/{memo_id}", timeout=TIMEOUT).json()["state"]
    assert state == "pending_permanent_secretary"
    listed = officer.get(f"{stack.url}/api/v1/memos", params={"q": MARKER}, timeout=TIMEOUT)
    subjects = sorted(item["subject"] for item in listed.json()["items"])
    assert subjects == [f"{MARKER} draft", f"{MARKER} full"], "a half-written memo appeared"
    assert stack.alive()
