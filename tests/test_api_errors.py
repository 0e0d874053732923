"""The JSON API's refusals: the right status, a stable English code, and a message in
the reader's language (Thai unless English is asked for). Bad input never yields a 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config import Config
from tests.conftest import ApiClient, Office, seed_memo_fields


def error_of(response: Any) -> dict[str, Any]:
    body = response.get_json()
    assert body is not None and "error" in body, response.data[:200]
    return dict(body["error"])


def test_malformed_json_is_400(api: ApiClient) -> None:
    response = api.post(
        "officer", "/api/v1/memos", data='{"subject": "ก",', content_type="application/json"
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_body"


def test_invalid_utf8_is_400(api: ApiClient) -> None:
    response = api.post(
        "officer",
        "/api/v1/memos",
        data=b'{"subject": "\xff\xfe", "to": "x"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_body"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": "นายก"}, "subject"),
        ({"subject": 5, "to": "นายก"}, "subject"),
        ({"subject": "ก", "to": "นายก", "colour": "red"}, "colour"),
        ({"subject": "ก", "to": "นายก", "urgency": "fast"}, "urgency"),
        ({"subject": "ก" * 1001, "to": "นายก"}, "subject"),
        ({"subject": "ก\x07", "to": "นายก"}, "subject"),
    ],
    ids=["missing", "wrong-type", "unknown-field", "bad-choice", "too-long", "control-char"],
)
def test_invalid_fields_are_422_naming_the_field(
    api: ApiClient, body: dict[str, Any], field: str
) -> None:
    response = api.post("officer", "/api/v1/memos", body)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert field in error["fields"]
    assert "ข้อมูลไม่ถูกต้อง" in error["message"]


def test_english_messages_on_request(api: ApiClient) -> None:
    response = api.client.post(
        "/api/v1/memos",
        json={"to": "นายก"},
        headers=api.headers("officer", **{"Accept-Language": "en-GB,en;q=0.9"}),
    )
    error = error_of(response)
    assert error["message"].startswith("Invalid input")
    assert error["fields"] == {"subject": "is required"}


def test_missing_and_wrong_tokens_are_401(api: ApiClient) -> None:
    assert api.get(None, "/api/v1/inbox").status_code == 401
    response = api.client.get("/api/v1/inbox", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_revoked_tokens_are_401(api: ApiClient) -> None:
    from sqlalchemy import select

    from models import ApiToken
    from workflow.accounts import revoke_token

    assert api.get("head", "/api/v1/inbox").status_code == 200
    api.office.run(lambda s: revoke_token(s, s.execute(select(ApiToken.id)).scalars().all()[-1]))
    assert api.get("head", "/api/v1/inbox").status_code == 401


def test_acting_out_of_turn_is_403_naming_who_may_act(api: ApiClient) -> None:
    memo_id = api.office.submitted()
    response = api.act("mayor", memo_id, "sign", decision="approved")
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "not_allowed"
    assert error["may_act"] == "หัวหน้าสำนักปลัด"
    assert "หัวหน้าสำนักปลัด" in error["message"]


def test_someone_elses_draft_does_not_exist(api: ApiClient) -> None:
    memo_id = api.office.create()
    assert api.get("head", f"/api/v1/memos/{memo_id}").status_code == 404
    assert api.get("officer", f"/api/v1/memos/{memo_id}").status_code == 200
    assert api.get("officer", "/api/v1/memos/99999").status_code == 404


def test_a_stale_version_is_409_and_changes_nothing(api: ApiClient) -> None:
    memo_id = api.office.submitted()
    seen = api.get("head", f"/api/v1/memos/{memo_id}").get_json()["version"]
    api.office.act("officer", "withdraw", memo_id)
    response = api.act("head", memo_id, "endorse", opinion="เห็นควร", version=seen)
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "stale_version"
    assert error["state"] == "withdrawn"


def test_a_wrong_state_is_409(api: ApiClient) -> None:
    memo_id = api.office.signed()
    response = api.act("mayor", memo_id, "sign", decision="approved")
    assert response.status_code == 409
    assert error_of(response)["code"] == "invalid_transition"


def test_upload_over_the_limit_is_413(tmp_path: Path, database_url: str, engine: Any) -> None:
    from io import BytesIO

    from webapp import create_app
    from webapp.db import database

    app = create_app(
        Config(HOME=tmp_path, DATABASE_URL=database_url, SECRET_KEY="t", MAX_UPLOAD_MB=0.01)
    )
    api = ApiClient(app.test_client(), Office(database(app).sessions))
    memo_id = api.office.create()
    response = api.post(
        "officer",
        f"/api/v1/memos/{memo_id}/attachments",
        data={"file": (BytesIO(b"x" * 20_000), "big.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"
    assert api.get("officer", f"/api/v1/memos/{memo_id}").get_json()["attachments"] == []
    database(app).engine.dispose()


def test_attachment_downloads_under_its_thai_name(api: ApiClient) -> None:
    from io import BytesIO

    memo_id = api.office.create()
    uploaded = api.post(
        "officer",
        f"/api/v1/memos/{memo_id}/attachments",
        data={"file": (BytesIO("ก,ข\n1,2\n".encode()), "../../etc/รายงาน ITA.csv")},
        content_type="multipart/form-data",
    ).get_json()
    assert uploaded["name"] == "รายงาน ITA.csv"
    response = api.get("officer", f"/api/v1/memos/{memo_id}/attachments/{uploaded['id']}")
    assert response.status_code == 200
    assert response.data == "ก,ข\n1,2\n".encode()
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]


def test_list_search_and_pagination(api: ApiClient) -> None:
    for index in range(23):
        api.office.create(subject=f"เรื่องทดสอบลำดับที่ {index}")
    api.office.submitted(subject="ผลการประเมิน ITA")
    mine = api.get("officer", "/api/v1/memos?page=2").get_json()
    assert mine["total"] == 24 and mine["page"] == 2 and len(mine["items"]) == 4
    found = api.get("officer", "/api/v1/memos?q=ประเมิน").get_json()
    assert [m["subject"] for m in found["items"]] == ["ผลการประเมิน ITA"]
    by_number = api.get("officer", "/api/v1/memos?q=72001/1").get_json()
    assert by_number["total"] == 1
    assert api.get("head", "/api/v1/memos").get_json()["total"] == 1  # drafts are private
    pending = api.get("officer", "/api/v1/memos?state=pending_head_of_office").get_json()
    assert pending["total"] == 1
    assert api.get("officer", "/api/v1/memos?page=0").status_code == 422


def test_patch_edits_a_draft(api: ApiClient) -> None:
    memo = api.post("officer", "/api/v1/memos", seed_memo_fields()).get_json()
    response = api.patch(
        "officer", f"/api/v1/memos/{memo['id']}", {"subject": "เรื่องใหม่", "version": 1}
    )
    assert response.status_code == 200
    assert response.get_json()["subject"] == "เรื่องใหม่"
    assert response.get_json()["version"] == 2


def test_openapi_document_is_generated(api: ApiClient) -> None:
    spec = api.client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in [
        "/api/v1/memos",
        "/api/v1/memos/{memo_id}",
        "/api/v1/memos/{memo_id}/actions",
        "/api/v1/memos/{memo_id}/attachments",
        "/api/v1/memos/{memo_id}/attachments/{attachment_id}",
        "/api/v1/memos/{memo_id}/audit",
        "/api/v1/inbox",
    ]:
        assert path in spec["paths"], path
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_a_nul_in_a_filter_or_a_username_is_no_server_error(api: ApiClient) -> None:
    """Found by the fuzzer on PostgreSQL, which refuses NUL in a text parameter (a 500):
    no stored state, subject, number or username holds one, so such a filter finds
    nothing and such a user does not exist."""
    api.office.submitted()
    for query in ("state=pending%00x", "q=%E0%B8%A3%00", "state=draft&q=%00"):
        listed = api.get("officer", f"/api/v1/memos?{query}")
        assert listed.status_code == 200, (query, listed.get_data(as_text=True))
        assert listed.get_json()["items"] == [] and listed.get_json()["total"] == 0
    body = {
        "username": "pa\x00lad",
        "step": "head_of_office",
        "capacity": "รักษาราชการแทน",
        "order": "คำสั่ง ที่ 1/2569",
        "from": "2026-11-20",
        "to": "2026-11-30",
    }
    refused = api.post("admin", "/api/v1/acting", body)
    assert refused.status_code in (404, 422), refused.get_data(as_text=True)
    assert refused.get_json()["error"]["code"] in ("not_found", "validation_failed")
