"""Secret memos are seen only by their author and the people on their route (and whoever
acts for one of them); an admin reaches one only through an explicit, audited action.
Refusals land in the security log."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from models import SecurityEvent
from tests.conftest import PASSWORD, ApiClient
from workflow import accounts


@pytest.fixture
def secret_memo(api: ApiClient) -> int:
    def add_outsider(session: Any) -> None:
        accounts.add_user(
            session,
            accounts.only_organisation(session),
            "clerk",
            "นายสมชาย ใจดี",
            "เจ้าพนักงานธุรการ",
            "officer",
            PASSWORD,
        )

    api.office.run(add_outsider)
    return api.office.submitted(secrecy="secret", subject="เรื่องลับมาก: การสอบสวนวินัย")


def test_a_secret_memo_is_hidden_from_everyone_off_its_route(
    api: ApiClient, secret_memo: int
) -> None:
    for username in ("officer", "head", "palad", "mayor"):
        assert api.get(username, f"/api/v1/memos/{secret_memo}").status_code == 200, username
    for username in ("clerk", "admin"):
        assert api.get(username, f"/api/v1/memos/{secret_memo}").status_code == 404, username
        listed = api.get(username, "/api/v1/memos?q=สอบสวน").get_json()
        assert listed["total"] == 0 and listed["items"] == []
        assert api.get(username, f"/api/v1/memos/{secret_memo}/audit").status_code == 404


def test_an_admin_opens_a_secret_memo_only_explicitly_and_it_is_audited(
    api: ApiClient, secret_memo: int
) -> None:
    path = f"/api/v1/memos/{secret_memo}/admin-open"
    assert api.post("admin", path, {}).status_code == 422  # a reason is required
    assert api.post("head", path, {"reason": "ตรวจสอบ"}).status_code == 403
    opened = api.post("admin", path, {"reason": "คำสั่งศาลปกครอง ที่ 5/2569"})
    assert opened.status_code == 200
    assert opened.get_json()["subject"] == "เรื่องลับมาก: การสอบสวนวินัย"
    events = api.get("officer", f"/api/v1/memos/{secret_memo}/audit").get_json()["events"]
    assert events[-1]["action"] == "admin_open"
    assert events[-1]["actor"]["name"] == "ผู้ดูแลระบบ"
    assert events[-1]["opinion"] == "คำสั่งศาลปกครอง ที่ 5/2569"
    assert all(e["verified"] for e in events)
    runner_result = api.client.application.test_cli_runner().invoke(args=["audit", "verify"])
    assert runner_result.exit_code == 0, runner_result.output


def test_refusals_are_written_to_the_security_log(api: ApiClient, secret_memo: int) -> None:
    assert api.act("mayor", secret_memo, "sign", decision="approved").status_code == 403
    assert (
        api.client.get("/api/v1/inbox", headers={"Authorization": "Bearer forged"}).status_code
        == 401
    )
    logged = api.office.run(
        lambda s: [
            (e.kind, e.username, e.detail.split(":")[0])
            for e in s.execute(select(SecurityEvent).order_by(SecurityEvent.id)).scalars()
        ]
    )
    assert ("refused", "mayor", f"POST /api/v1/memos/{secret_memo}/actions") in logged
    assert ("token_refused", "", "GET /api/v1/inbox") in logged
