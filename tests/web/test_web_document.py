"""The official document from the web and the API: print view, PDF download, and the
verification page a printed copy's URL and QR code lead to."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import ApiClient
from webapp.document import DocumentEngineUnavailable, check_engine


def _engine_missing() -> str | None:
    try:
        check_engine()
    except DocumentEngineUnavailable as error:
        return str(error)
    return None


needs_chromium = pytest.mark.skipif(
    _engine_missing() is not None, reason=f"no PDF engine here: {_engine_missing()}"
)


def test_print_view_is_the_official_document_under_a_strict_policy(as_user: Any) -> None:
    memo_id = as_user("officer").office.signed()
    web = as_user("officer")
    page = web.text(f"/memos/{memo_id}")
    assert f'href="/memos/{memo_id}/print"' in page and f'href="/memos/{memo_id}/pdf"' in page
    response = web.get(f"/memos/{memo_id}/print")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "บันทึกข้อความ" in html and "พท 72001/1" in html
    policy = response.headers["Content-Security-Policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert "<script" not in html.lower()
    verify_link = re.search(r"http://localhost/memos/\d+/verify\?h=[0-9a-f]{64}", html)
    assert verify_link, "the verification URL is printed"


def test_the_verification_page_tells_a_true_copy_from_an_altered_memo(as_user: Any) -> None:
    web = as_user("officer")
    memo_id = web.office.signed()
    html = web.text(f"/memos/{memo_id}/print")
    link = re.search(r"/memos/\d+/verify\?h=[0-9a-f]{64}", html)
    assert link
    assert 'data-outcome="ok"' in web.text(link.group(0))
    web.office.run(
        lambda s: s.execute(text(f"UPDATE memo SET proposal = 'แก้ไขภายหลัง' WHERE id = {memo_id}"))
    )
    assert 'data-outcome="mismatch"' in web.text(link.group(0))


def test_documents_of_a_memo_i_may_not_see_do_not_exist(as_user: Any) -> None:
    web = as_user("officer")
    draft = web.office.create()
    head = as_user("head")
    for path in ("print", "pdf", "verify"):
        assert head.get(f"/memos/{draft}/{path}").status_code == 404, path


@needs_chromium
def test_pdf_download_from_the_memo_page(as_user: Any) -> None:
    web = as_user("mayor")
    memo_id = web.office.signed()
    response = web.get(f"/memos/{memo_id}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert 'filename="พท72001-1.pdf"' in response.headers["Content-Disposition"] or (
        "filename" in response.headers["Content-Disposition"]
    )


@needs_chromium
def test_pdf_through_the_api(api: ApiClient) -> None:
    memo_id = api.office.signed()
    response = api.get("palad", f"/api/v1/memos/{memo_id}/pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert api.get(None, f"/api/v1/memos/{memo_id}/pdf").status_code == 401


def test_a_missing_engine_is_a_clear_503(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    memo_id = api.office.signed()
    monkeypatch.setenv("MEMOFLOW_CHROMIUM", "/nonexistent/chromium")
    from webapp.document import shutdown_engine

    shutdown_engine()
    response = api.get("palad", f"/api/v1/memos/{memo_id}/pdf")
    assert response.status_code == 503
    body: dict[str, Any] = response.get_json()["error"]
    assert body["code"] == "unavailable"


PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)


def test_the_organisations_emblem_is_printed_at_the_top_left(as_user: Any) -> None:
    from io import BytesIO

    admin = as_user("admin")
    refused = admin.post(
        "/admin/organisation/emblem",
        {"emblem": (BytesIO(b"not an image"), "garuda.png")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    saved = admin.post(
        "/admin/organisation/emblem",
        {"emblem": (BytesIO(PNG_1X1), "garuda.png")},
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302
    officer = as_user("officer")
    memo_id = officer.office.signed()
    emblem = "data:image/png;base64," + base64.b64encode(PNG_1X1).decode()
    assert emblem in officer.text(f"/memos/{memo_id}/print")
    assert admin.post("/admin/organisation/emblem", {"remove": "1"}).status_code == 302
    assert emblem not in officer.text(f"/memos/{memo_id}/print")
