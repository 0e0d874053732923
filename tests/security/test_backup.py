"""``memoflow backup`` and ``memoflow restore``: a round trip through the real command
line brings the data back exactly and the audit chain verifies; a backup taken while
memoflow writes is consistent; a tampered backup is refused; on PostgreSQL both commands
say how to use pg_dump and pg_restore instead."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from models.db import make_engine, make_session_factory
from tests.conftest import Office, reset_schema
from tests.security.conftest import chain_verifies, snapshot
from workflow import actions

ROOT = Path(__file__).resolve().parents[2]


def memoflow(home: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real console entry point, in a fresh process, on the database at ``url``."""
    env = os.environ | {
        "MEMOFLOW_HOME": str(home),
        "MEMOFLOW_DATABASE_URL": url,
        "MEMOFLOW_SECRET_KEY": "backup-test",
    }
    return subprocess.run(
        [sys.executable, "-c", "from webapp.cli import main; main()", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def sqlite_office(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'memoflow.sqlite3'}"
    engine = make_engine(url)
    reset_schema(engine)
    office = Office(make_session_factory(engine))
    yield url, engine, office
    engine.dispose()


def make_history(office: Office) -> None:
    office.signed()
    returned = office.submitted(subject="เรื่องที่ถูกส่งคืน")
    office.act("head", "return", returned, opinion="แก้ไขข้อเท็จจริง")
    withdrawn = office.submitted(subject="เรื่องที่ถอน")
    office.act("officer", "withdraw", withdrawn)
    draft = office.create(subject="ร่างที่มีไฟล์แนบ", secrecy="secret")
    office.run(
        lambda s: actions.add_attachment(
            s, draft, office.user(s, "officer"), "ข้อมูล.csv", "ก,ข\n1,2\n".encode()
        )
    )


def test_backup_destroy_restore_round_trip(tmp_path: Path, sqlite_office: Any) -> None:
    url, engine, office = sqlite_office
    make_history(office)
    saved = snapshot(office)
    target = tmp_path / "backups" / "memoflow-2569-11-25.sqlite3"
    target.parent.mkdir()
    made = memoflow(tmp_path, url, "backup", str(target))
    assert made.returncode == 0, made.stderr
    assert "audit events verified" in made.stdout and "head (organisation 1)" in made.stdout
    assert target.exists() and not list(target.parent.glob(".*partial"))
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"

    # Change, then destroy the database.
    office.submitted(subject="เรื่องหลังการสำรองข้อมูล")
    engine.dispose()
    database = tmp_path / "memoflow.sqlite3"
    database.write_bytes(b"\x00 destroyed by a failing disk " * 1000)
    assert memoflow(tmp_path, url, "audit", "verify").returncode != 0

    restored = memoflow(tmp_path, url, "restore", str(target), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "kept the replaced file" in restored.stdout and "ok:" in restored.stdout
    assert list(tmp_path.glob("memoflow.sqlite3.before-restore-*"))
    verified = memoflow(tmp_path, url, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert snapshot(office) == saved
    chain_verifies(office)


def test_a_backup_taken_while_memoflow_writes_is_consistent(
    tmp_path: Path, sqlite_office: Any
) -> None:
    url, engine, office = sqlite_office
    make_history(office)
    stop = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        while not stop.is_set():
            memo_id = office.create(subject=f"เรื่องระหว่างสำรอง {len(written)}")
            office.act("officer", "submit", memo_id)
            written.append(memo_id)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        backups = []
        for index in range(3):
            target = tmp_path / f"online-{index}.sqlite3"
            made = memoflow(tmp_path, url, "backup", str(target))
            assert made.returncode == 0, made.stderr
            backups.append(target)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert written, "the writer wrote nothing during the backups"
    engine.dispose()
    restored = memoflow(tmp_path, url, "restore", str(backups[-1]), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert memoflow(tmp_path, url, "audit", "verify").returncode == 0
    chain_verifies(office)


def test_a_tampered_backup_is_refused_and_changes_nothing(
    tmp_path: Path, sqlite_office: Any
) -> None:
    url, engine, office = sqlite_office
    make_history(office)
    target = tmp_path / "backup.sqlite3"
    assert memoflow(tmp_path, url, "backup", str(target)).returncode == 0
    with sqlite3.connect(target) as copy:
        copy.execute("UPDATE opinion SET text = 'ไม่เห็นควร' WHERE step = 'head_of_office'")
    office.submitted(subject="เรื่องที่ต้องไม่หาย")
    saved = snapshot(office)
    engine.dispose()
    refused = memoflow(tmp_path, url, "restore", str(target), "--yes")
    assert refused.returncode == 1
    assert "does not verify, nothing was changed" in refused.stderr
    assert snapshot(office) == saved
    assert not list(tmp_path.glob("memoflow.sqlite3.before-restore-*"))
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("สวัสดี", encoding="utf-8")
    wrong = memoflow(tmp_path, url, "restore", str(not_a_database), "--yes")
    assert wrong.returncode == 1 and "not a SQLite database" in wrong.stderr
    forced = memoflow(tmp_path, url, "restore", str(target), "--yes", "--force")
    assert forced.returncode == 1 and "does not verify" in forced.stderr
    assert memoflow(tmp_path, url, "audit", "verify").returncode == 1


def test_postgresql_gets_pg_dump_instructions(tmp_path: Path) -> None:
    url = "postgresql://memoflow:s3cret-pw@db.example.org:5432/memoflow"
    for args in (("backup", str(tmp_path / "x.dump")), ("restore", __file__, "--yes")):
        result = memoflow(tmp_path, url, *args)
        assert result.returncode == 2, result.stderr
        assert "pg_dump --format=custom" in result.stderr
        assert "pg_restore --clean --if-exists" in result.stderr
        assert "s3cret-pw" not in result.stderr and "***" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.dump").exists()


def test_backup_refuses_to_overwrite_the_database(tmp_path: Path, sqlite_office: Any) -> None:
    url, _engine, _office = sqlite_office
    result = memoflow(tmp_path, url, "backup", str(tmp_path / "memoflow.sqlite3"))
    assert result.returncode == 1 and "must not overwrite" in result.stderr
