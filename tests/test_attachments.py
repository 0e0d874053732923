"""Attachments: accepted office files and text, refused executables and disguised files;
names kept for display only; nothing written when refused."""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models import Blob
from tests.conftest import ApiClient
from workflow import actions, audit

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def upload(api: ApiClient, memo_id: int, name: str, data: bytes) -> object:
    return api.post(
        "officer",
        f"/api/v1/memos/{memo_id}/attachments",
        data={"file": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [
        ("รายงาน.pdf", PDF, "application/pdf"),
        ("ภาพ.png", PNG, "image/png"),
        ("มาตรการ.csv", "มาตรการ,ผล\n1,ดำเนินการแล้ว\n".encode(), "text/csv"),
        ("windows-thai.csv", "มาตรการ,ผล\n".encode("cp874"), "text/csv"),
    ],
)
def test_accepted_files_are_stored_with_their_real_type(
    api: ApiClient, name: str, data: bytes, media_type: str
) -> None:
    memo_id = api.office.create()
    response = upload(api, memo_id, name, data)
    assert response.status_code == 201, response.get_json()  # type: ignore[attr-defined]
    assert response.get_json()["media_type"] == media_type  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("setup.exe", WINDOWS_EXE, "เป็นไฟล์โปรแกรม"),
        ("รายงาน.pdf", WINDOWS_EXE, "เป็นไฟล์โปรแกรม"),
        ("รายงาน.pdf", PNG, "เนื้อไฟล์ไม่ตรงกับนามสกุล"),
        ("ข้อมูล.csv", b"\x00\x01\x02binary", "เนื้อไฟล์ไม่ตรงกับนามสกุล"),
        ("script.sh", b"#!/bin/sh\nrm -rf /\n", "ไม่รับไฟล์ชนิดนี้"),
        ("report\u202efdp.exe", PDF, "อักขระกลับทิศทาง"),
        ("", PDF, "ชื่อไฟล์ไม่ถูกต้อง"),
    ],
    ids=["exe", "exe-as-pdf", "png-as-pdf", "binary-as-csv", "script", "rtl-override", "no-name"],
)
def test_dangerous_files_are_refused_and_nothing_is_written(
    api: ApiClient, name: str, data: bytes, problem: str
) -> None:
    memo_id = api.office.create()
    response = upload(api, memo_id, name, data)
    assert response.status_code in (400, 422), response.get_json()  # type: ignore[attr-defined]
    assert problem in response.get_json()["error"]["message"]  # type: ignore[attr-defined]
    memo = api.get("officer", f"/api/v1/memos/{memo_id}").get_json()
    assert memo["attachments"] == [] and memo["version"] == 1


def test_path_names_are_kept_for_display_only(api: ApiClient) -> None:
    memo_id = api.office.create()
    for name in ("../../../etc/passwd.txt", "/abs/path/รายงาน.txt", "./ข้อมูล.txt"):
        response = upload(api, memo_id, name, "ข้อความ".encode())
        assert response.status_code == 201  # type: ignore[attr-defined]
    names = [
        a["name"] for a in api.get("officer", f"/api/v1/memos/{memo_id}").get_json()["attachments"]
    ]
    assert names == ["passwd.txt", "รายงาน.txt", "ข้อมูล.txt"]


# --- removing a file ------------------------------------------------------------------


def attachments_of(api: ApiClient, memo_id: int) -> list[str]:
    memo = api.get("officer", f"/api/v1/memos/{memo_id}").get_json()
    return [attachment["name"] for attachment in memo["attachments"]]


def stored_contents(api: ApiClient) -> set[str]:
    return set(api.office.run(lambda s: list(s.execute(select(Blob.sha256)).scalars())))


def test_the_author_removes_a_file_attached_by_mistake(api: ApiClient) -> None:
    """The author takes one of two files off a draft: the memo keeps the other, its
    version moves on, the file no longer downloads, its contents are deleted (no other
    attachment has them), the audit log records the removal and still verifies."""
    memo_id = api.office.create()
    wrong = upload(api, memo_id, "บัตรประชาชน.png", PNG).get_json()  # type: ignore[attr-defined]
    upload(api, memo_id, "รายงาน.pdf", PDF)
    version = api.get("officer", f"/api/v1/memos/{memo_id}").get_json()["version"]
    removed = api.delete(
        "officer", f"/api/v1/memos/{memo_id}/attachments/{wrong['id']}?version={version}"
    )
    assert removed.status_code == 200, removed.get_json()
    assert [a["name"] for a in removed.get_json()["attachments"]] == ["รายงาน.pdf"]
    assert removed.get_json()["version"] == version + 1
    assert attachments_of(api, memo_id) == ["รายงาน.pdf"]
    gone = api.get("officer", f"/api/v1/memos/{memo_id}/attachments/{wrong['id']}")
    assert gone.status_code == 404
    assert wrong["sha256"] not in stored_contents(api)
    events = api.get("officer", f"/api/v1/memos/{memo_id}/audit").get_json()["events"]
    assert events[-1]["action"] == "detach"
    assert events[-1]["details"]["name"] == "บัตรประชาชน.png"
    assert api.office.run(lambda s: audit.verify(s).ok)
    # The memo goes on as usual, bound to the one file it has now.
    assert api.act("officer", memo_id, "submit").status_code == 200


def test_contents_another_memo_uses_are_kept(api: ApiClient) -> None:
    first, second = api.office.create(), api.office.create()
    shared = upload(api, first, "รายงาน.pdf", PDF).get_json()  # type: ignore[attr-defined]
    upload(api, second, "รายงาน-สำเนา.pdf", PDF)
    assert api.delete("officer", f"/api/v1/memos/{first}/attachments/{shared['id']}").status_code
    assert attachments_of(api, first) == []
    assert shared["sha256"] in stored_contents(api)
    kept = api.get("officer", f"/api/v1/memos/{second}").get_json()["attachments"][0]
    download = api.get("officer", f"/api/v1/memos/{second}/attachments/{kept['id']}")
    assert download.status_code == 200 and download.data == PDF


def test_removing_a_file_is_refused_where_editing_is(api: ApiClient) -> None:
    """Only the author, only while the memo is a draft or returned, only with the version
    they saw, only a file of that memo: otherwise the right refusal and nothing changes."""
    memo_id = api.office.create()
    other_memo = api.office.create()
    attachment = upload(api, memo_id, "รายงาน.pdf", PDF).get_json()  # type: ignore[attr-defined]
    path = f"/api/v1/memos/{memo_id}/attachments/{attachment['id']}"
    stale = api.delete("officer", path + "?version=1")
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "stale_version"
    assert api.delete("palad", path).status_code == 404  # a draft is the author's alone
    elsewhere = f"/api/v1/memos/{other_memo}/attachments/{attachment['id']}"
    assert api.delete("officer", elsewhere).status_code == 404
    assert api.delete("officer", path + "0").status_code == 404
    assert api.delete(None, path).status_code == 401
    api.act("officer", memo_id, "submit")
    submitted = api.delete("officer", path)
    assert submitted.status_code == 409
    assert "สถานะปัจจุบัน" in submitted.get_json()["error"]["message"]
    assert api.delete("head", path).status_code == 403
    assert attachments_of(api, memo_id) == ["รายงาน.pdf"]
    api.act("head", memo_id, "return", opinion="แนบไฟล์ผิดฉบับ")
    assert api.delete("officer", path).status_code == 200
    assert attachments_of(api, memo_id) == []


def test_whether_contents_are_still_used_is_answered_from_an_index(api: ApiClient) -> None:
    """Removing a file asks whether any attachment, of any memo, still has its contents.
    The question reads ix_attachment_sha256 (migration 0009), not every attachment ever
    uploaded: the plan on this database names the index."""
    memo_id = api.office.create()
    upload(api, memo_id, "รายงาน.pdf", PDF)
    query = actions.CONTENTS_STILL_USED.params(sha256="0" * 64)

    def plan(session: Session) -> str:
        dialect = session.get_bind().dialect
        sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        if dialect.name == "sqlite":
            return " ".join(
                str(row[-1]) for row in session.execute(text("EXPLAIN QUERY PLAN " + sql))
            )
        # PostgreSQL reads a table this small from start to end whatever the indexes; with
        # sequential scans priced out it shows whether an index could answer.
        session.execute(text("SET LOCAL enable_seqscan = off"))
        return " ".join(str(row[0]) for row in session.execute(text("EXPLAIN " + sql)))

    assert "ix_attachment_sha256" in api.office.run(plan)
