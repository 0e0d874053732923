"""The acceptance scenario of the backbone, end to end through the JSON API and the CLI."""

from __future__ import annotations

import sqlite3
from typing import Any

from tests.conftest import SEED_CSV, SEED_MEMO, ApiClient, seed_memo_fields


def test_seed_memo_signed_off_through_the_api_and_audit_verifies(
    api: ApiClient, app: Any, database_url: str
) -> None:
    created = api.post("officer", "/api/v1/memos", seed_memo_fields())
    assert created.status_code == 201, created.get_json()
    memo = created.get_json()
    memo_id = memo["id"]
    assert memo["state"] == "draft" and memo["number"] is None and memo["date"] is None
    assert memo["author"] == {
        "name": SEED_MEMO["author"]["name"],
        "position": SEED_MEMO["author"]["position"],
    }

    with open(SEED_CSV, "rb") as handle:
        uploaded = api.post(
            "officer",
            f"/api/v1/memos/{memo_id}/attachments",
            data={"file": (handle, "ita-measures-2565.csv")},
            content_type="multipart/form-data",
        )
    assert uploaded.status_code == 201, uploaded.get_json()

    submitted = api.act("officer", memo_id, "submit")
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["number"] == "พท 72001/1"
    assert submitted.get_json()["state"] == "pending_head_of_office"

    assert [m["id"] for m in api.get("head", "/api/v1/inbox").get_json()["items"]] == [memo_id]
    assert api.act("head", memo_id, "endorse", opinion="เห็นควรทราบและเผยแพร่").status_code == 200
    assert api.act("palad", memo_id, "endorse", opinion="เห็นควรทราบ").status_code == 200
    signed = api.act("mayor", memo_id, "sign", decision="acknowledged", opinion="ทราบ")
    assert signed.status_code == 200, signed.get_json()
    body = signed.get_json()
    assert body["state"] == "signed"
    assert [(o["step"], o["by"]["name"]) for o in body["opinions"]] == [
        (step["step"], step["name"]) for step in SEED_MEMO["route"]
    ]
    assert body["allowed_actions"] == []

    events = api.get("officer", f"/api/v1/memos/{memo_id}/audit").get_json()["events"]
    assert [(e["action"], e["actor"]["name"]) for e in events] == [
        ("create", "นางสาวภรณ์พรรณ บุญเผือก"),
        ("attach", "นางสาวภรณ์พรรณ บุญเผือก"),
        ("submit", "นางสาวภรณ์พรรณ บุญเผือก"),
        ("endorse", "นางสาวสุพัตรา ชูกลิ่น"),
        ("endorse", "นายเศรษฐา ชูดำ"),
        ("sign", "นายวินัย มูสิกะเจริญ"),
    ]
    assert all(e["verified"] for e in events)

    runner = app.test_cli_runner()
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "6 events verified" in verified.output

    # Someone edits one audit row directly in the database: verification names it.
    _tamper(database_url, "UPDATE audit_event SET opinion = 'เห็นควรไม่อนุมัติ' WHERE seq = 4")
    failed = runner.invoke(args=["audit", "verify"])
    assert failed.exit_code == 1
    assert "event seq 4" in failed.output


def _tamper(database_url: str, statement: str) -> None:
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        connection.execute(statement)
        connection.commit()
        connection.close()
    else:
        from sqlalchemy import text

        from models.db import make_engine

        engine = make_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text(statement))
        engine.dispose()
