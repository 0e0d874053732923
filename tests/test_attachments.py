"""Attachments: accepted office files and text, refused executables and disguised files;
names kept for display only; nothing written when refused."""

from __future__ import annotations

from io import BytesIO

import pytest

from tests.conftest import ApiClient

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
