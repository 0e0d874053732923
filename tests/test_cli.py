"""The ``memoflow`` command line: demo seeding, users, tokens, routes, audit export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import ApiClient
from workflow.route import ROUTES_DIR


def run_memoflow(home: Path, *args: str, input_text: str | None = None) -> Any:
    """The real console entry point, in a fresh process, on a SQLite file under ``home``."""
    env = os.environ | {"MEMOFLOW_HOME": str(home), "MEMOFLOW_PASSWORD_HASH": "fast"}
    env.pop("MEMOFLOW_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", "from webapp.cli import main; main()", *args],
        env=env,
        input=input_text,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_demo_seeds_once_and_is_safe_to_run_again(tmp_path: Path) -> None:
    first = run_memoflow(tmp_path, "demo", "--no-serve", "--password", "demo-pass-1")
    assert first.returncode == 0, first.stderr
    assert "นางสาวภรณ์พรรณ บุญเผือก" in first.stdout
    assert "password for new users: demo-pass-1" in first.stdout
    assert (tmp_path / "memoflow.sqlite3").exists()
    again = run_memoflow(tmp_path, "demo", "--no-serve")
    assert again.returncode == 0, again.stderr
    assert "already there" in again.stdout
    assert "password for new users" not in again.stdout


def test_token_create_prints_a_working_token_last_and_audits_its_issue(tmp_path: Path) -> None:
    run_memoflow(tmp_path, "demo", "--no-serve", "--password", "demo-pass-1")
    created = run_memoflow(tmp_path, "token", "create", "officer")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert len(token) >= 40

    from config import Config
    from webapp import create_app

    app = create_app(Config(HOME=tmp_path))
    response = app.test_client().get("/api/v1/inbox", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from models import AuditEvent
    from webapp.db import database

    with Session(database(app).engine) as session:
        issued = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert issued is not None
        assert (issued.action, issued.actor_name) == ("token_create", "system")
        assert issued.details["username"] == "officer"
        assert token not in json.dumps(issued.details)
    database(app).engine.dispose()


def test_user_add_asks_for_the_password_when_not_given(tmp_path: Path) -> None:
    run_memoflow(tmp_path, "demo", "--no-serve", "--password", "demo-pass-1")
    added = run_memoflow(
        tmp_path,
        "user",
        "add",
        "clerk2",
        "--name",
        "นางสาวมาลี ดีงาม",
        "--position",
        "เจ้าพนักงานธุรการ",
        "--role",
        "officer",
        input_text="a-long-password\na-long-password\n",
    )
    assert added.returncode == 0, added.stderr
    assert "added clerk2 (นางสาวมาลี ดีงาม" in added.stdout
    duplicate = run_memoflow(
        tmp_path,
        "user",
        "add",
        "clerk2",
        "--name",
        "x",
        "--position",
        "y",
        "--role",
        "officer",
        "--password",
        "a-long-password",
    )
    assert duplicate.returncode == 1
    assert "username: taken" in duplicate.stderr


def test_route_set_from_a_file_and_show(app: Any, api: ApiClient) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["route", "set", str(ROUTES_DIR / "municipality.json")])
    assert result.exit_code == 0, result.output
    assert "ผู้อำนวยการกอง → รองปลัดเทศบาล → ปลัดเทศบาล → นายกเทศมนตรี" in result.output
    shown = json.loads(runner.invoke(args=["route", "show"]).output)
    assert [step["key"] for step in shown["steps"]] == [
        "division_director",
        "deputy_clerk",
        "municipal_clerk",
        "mayor",
    ]
    bad = tmp_file = Path(app.config["MEMOFLOW_HOME"]) / "bad-route.json"
    tmp_file.write_text('{"steps": [{"key": "Bad Key", "role": "x"}]}', encoding="utf-8")
    refused = runner.invoke(args=["route", "set", str(bad)])
    assert refused.exit_code == 1
    assert "key must be" in refused.output
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_audit_export_and_verify_head(app: Any, api: ApiClient, tmp_path: Path) -> None:
    api.office.signed()
    runner = app.test_cli_runner()
    verified = runner.invoke(args=["audit", "verify"])
    head = verified.output.strip().splitlines()[-1].split()[-1]
    assert runner.invoke(args=["audit", "verify", "--head", head]).exit_code == 0
    assert runner.invoke(args=["audit", "verify", "--head", "0" * 64]).exit_code == 1
    exported = tmp_path / "chain.jsonl"
    result = runner.invoke(args=["audit", "export", str(exported)])
    assert result.exit_code == 0 and "exported 5 events" in result.output
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["hash"] == head
