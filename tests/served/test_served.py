"""Every kind of response, fetched from ``memoflow serve`` (gunicorn) the way users reach
it: an HTML page, a JSON answer, the PDF of a numbered memo, an attachment with a Thai
name, 4xx and 5xx errors, an upload's 413.

Flask's test client accepts response headers gunicorn refuses (a Content-Disposition that
is not Latin-1 made every numbered memo's PDF a 500 under gunicorn while every test
passed); here each answer has crossed the real server.
"""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.conftest import PASSWORD, seed_memo_fields
from tests.served.conftest import MAX_UPLOAD_MB, MISSING_CHROMIUM
from tests.served.server import ServedStack
from webapp.document import engine
from webapp.document.errors import DocumentEngineUnavailable

THAI = re.compile(r"[\u0e00-\u0e7f]")
ATTACHMENT_NAME = "สรุปผล ITA.pdf"
TIMEOUT = 60


def needs_chromium() -> None:
    try:
        engine.check_engine()
    except DocumentEngineUnavailable as missing:
        pytest.skip(f"no PDF engine on this machine: {missing}")


def pdf_bytes() -> bytes:
    """A small, real one-page PDF, as a clerk would attach."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "สรุปผล ITA"})
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


class Api:
    """The JSON API of a served stack as one user (a token made by the CLI)."""

    def __init__(self, stack: ServedStack, username: str) -> None:
        self.stack = stack
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {stack.token(username)}"

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        return self.http.request(method, f"{self.stack.url}/api/v1{path}", **kwargs)

    def draft(self, **fields: str) -> dict[str, Any]:
        answer = self("POST", "/memos", json=seed_memo_fields() | fields)
        assert answer.status_code == 201, answer.text
        memo: dict[str, Any] = answer.json()
        return memo

    def numbered(self) -> dict[str, Any]:
        """A memo the officer drafted and submitted: it has its number now."""
        memo = self.draft()
        answer = self("POST", f"/memos/{memo['id']}/actions", json={"action": "submit"})
        assert answer.status_code == 200, answer.text
        submitted: dict[str, Any] = answer.json()
        assert submitted["number"], submitted
        return submitted


@pytest.fixture(scope="module")
def officer(served: ServedStack) -> Api:
    return Api(served, "officer")


@pytest.fixture
def browser(served: ServedStack) -> requests.Session:
    """A new cookie jar signed in as the officer through the sign-in form."""
    session = requests.Session()
    served.login(session, "officer", PASSWORD)
    return session


def csrf_token(page: requests.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:2000]
    return match.group(1)


def assert_download(answer: requests.Response, name: str) -> None:
    """An attachment download under ``name``: RFC 6266 with the UTF-8 name in RFC 5987's
    ``filename*`` and a plain ASCII fallback; every header byte Latin-1 (here: ASCII)."""
    disposition = answer.headers["Content-Disposition"]
    assert disposition.isascii(), disposition
    assert disposition.startswith("attachment;"), disposition
    assert f"filename*=UTF-8''{quote(name, safe='!#$&+-.^_`|~')}" in disposition, disposition
    fallback = re.search(r'(?:^|;\s*)filename="?([^";]*)"?', disposition)
    assert fallback and fallback.group(1).isascii() and fallback.group(1), disposition


def test_signed_in_inbox_is_a_thai_html_page(
    served: ServedStack, browser: requests.Session
) -> None:
    answer = browser.get(f"{served.url}/", timeout=TIMEOUT)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    answer.encoding = "utf-8"
    assert '<html lang="th"' in answer.text
    assert "<h1>งานรอพิจารณา</h1>" in answer.text
    assert "นางสาวภรณ์พรรณ บุญเผือก" in answer.text  # who is signed in, in the header
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_json_answer_carries_thai_fields(officer: Api) -> None:
    memo = officer.draft(subject="ขอรายงานผลการประเมิน ITA ประจำปี ๒๕๖๕")
    answer = officer("GET", f"/memos/{memo['id']}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert body["subject"] == "ขอรายงานผลการประเมิน ITA ประจำปี ๒๕๖๕"
    assert body["state"] == "draft" and body["number"] is None
    assert "submit" in body["allowed_actions"]


def test_pdf_of_a_numbered_memo_downloads_under_its_thai_number(
    served: ServedStack, officer: Api, browser: requests.Session
) -> None:
    needs_chromium()
    memo = officer.numbered()
    assert THAI.search(memo["number"]), memo["number"]  # "พท 72001/N"
    name = memo["number"].replace("/", "-").replace(" ", "") + ".pdf"
    for answer in (
        officer("GET", f"/memos/{memo['id']}/pdf"),
        browser.get(f"{served.url}/memos/{memo['id']}/pdf", timeout=TIMEOUT),
    ):
        assert answer.status_code == 200, answer.text[:2000]
        assert answer.headers["Content-Type"] == "application/pdf"
        assert_download(answer, name)
        assert answer.content.startswith(b"%PDF")
        assert int(answer.headers["Content-Length"]) == len(answer.content)


def test_attachment_with_a_thai_name_comes_back_under_it_byte_for_byte(
    served: ServedStack, officer: Api, browser: requests.Session
) -> None:
    contents = pdf_bytes()
    memo = officer.draft()
    uploaded = officer(
        "POST",
        f"/memos/{memo['id']}/attachments",
        files={"file": (ATTACHMENT_NAME, contents, "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["name"] == ATTACHMENT_NAME
    attachment_id = uploaded.json()["id"]
    for answer in (
        officer("GET", f"/memos/{memo['id']}/attachments/{attachment_id}"),
        browser.get(
            f"{served.url}/memos/{memo['id']}/attachments/{attachment_id}", timeout=TIMEOUT
        ),
    ):
        assert answer.status_code == 200, answer.text[:2000]
        assert answer.headers["Content-Type"] == "application/pdf"
        assert_download(answer, ATTACHMENT_NAME)
        assert answer.content == contents


def test_api_errors_are_json_with_a_stable_code_and_a_thai_message(
    served: ServedStack, officer: Api
) -> None:
    missing = officer("GET", "/memos/987654")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/json"
    assert missing.json() == {"error": {"code": "not_found", "message": "ไม่พบรายการที่ขอ"}}
    english = officer("GET", "/memos/987654", headers={"Accept-Language": "en"})
    assert english.json()["error"] == {"code": "not_found", "message": "Not found."}

    no_token = requests.get(f"{served.url}/api/v1/inbox", timeout=TIMEOUT)
    assert no_token.status_code == 401
    assert no_token.json()["error"]["code"] == "unauthorized"
    assert THAI.search(no_token.json()["error"]["message"])

    invalid = officer("POST", "/memos", json={"subject": "ขอรายงานผล"})  # no "to"
    assert invalid.status_code == 422
    error = invalid.json()["error"]
    assert error["code"] == "validation_failed" and THAI.search(error["message"])
    assert error["fields"] == {"to": "จำเป็นต้องกรอก"}


def test_a_page_that_does_not_exist_is_the_layouts_404_page(
    served: ServedStack, browser: requests.Session
) -> None:
    for path in ("/memos/987654", "/no-such-page"):
        answer = browser.get(f"{served.url}{path}", timeout=TIMEOUT)
        assert answer.status_code == 404, path
        assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
        answer.encoding = "utf-8"
        assert 'data-status="404"' in answer.text
        assert "<h1>ไม่พบหน้าที่ต้องการ</h1>" in answer.text
        assert "งานรอพิจารณา" in answer.text  # the layout's navigation, not a bare error


def test_a_server_without_chromium_answers_the_pdf_with_503_saying_what_to_install(
    served_without_chromium: ServedStack,
) -> None:
    stack = served_without_chromium
    api = Api(stack, "officer")
    memo = api.numbered()
    answer = api("GET", f"/memos/{memo['id']}/pdf")
    assert answer.status_code == 503
    assert answer.headers["Content-Type"] == "application/json"
    error = answer.json()["error"]
    assert error["code"] == "unavailable"
    assert error["message"].startswith("ยังสร้างเอกสารไม่ได้ในขณะนี้")
    assert MISSING_CHROMIUM in error["message"] and "apt-get install chromium" in error["message"]
    assert "Content-Disposition" not in answer.headers

    session = requests.Session()
    stack.login(session, "officer", PASSWORD)
    page = session.get(f"{stack.url}/memos/{memo['id']}/pdf", timeout=TIMEOUT)
    assert page.status_code == 503
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    page.encoding = "utf-8"
    assert 'data-status="503"' in page.text
    assert "apt-get install chromium" in page.text


def test_an_upload_over_the_limit_is_413_in_json_and_on_the_page(
    served: ServedStack, officer: Api, browser: requests.Session
) -> None:
    limit = int(MAX_UPLOAD_MB * 1024 * 1024)
    memo = officer.draft()
    # Just over the limit (read, then refused) and far over it (refused unread, from its
    # Content-Length): both answer 413 with the JSON error. gunicorn drains at most 64 KB
    # of a body left unread and then closes the connection, although its answer said
    # keep-alive; so the far-over upload asks for a connection of its own, as a client
    # must that does not retry on a closed keep-alive connection.
    for size, connection in ((limit + 1, "keep-alive"), (4 * limit, "close")):
        answer = officer(
            "POST",
            f"/memos/{memo['id']}/attachments",
            files={"file": ("ใหญ่เกิน.pdf", b"%PDF-1.4\n" + b"0" * size, "application/pdf")},
            headers={"Connection": connection},
        )
        assert answer.status_code == 413, (size, answer.text)
        assert answer.json()["error"] == {
            "code": "too_large",
            "message": f"ข้อมูลหรือไฟล์มีขนาดใหญ่เกินกำหนด ({float(MAX_UPLOAD_MB)} MB)",
        }
    assert officer("GET", f"/memos/{memo['id']}").json()["attachments"] == []

    form = browser.get(f"{served.url}/memos/{memo['id']}", timeout=TIMEOUT)
    page = browser.post(
        f"{served.url}/memos/{memo['id']}/attachments",
        data={"csrf_token": csrf_token(form), "version": str(memo["version"])},
        files={"file": ("ใหญ่เกิน.pdf", b"%PDF-1.4\n" + b"0" * (limit + 1), "application/pdf")},
        timeout=TIMEOUT,
    )
    assert page.status_code == 413
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    page.encoding = "utf-8"
    assert 'data-status="413"' in page.text and "ไฟล์ใหญ่เกินไป" in page.text


def test_the_other_kinds_of_answer_the_server_gives(
    served: ServedStack, officer: Api, browser: requests.Session
) -> None:
    """A redirect to sign in, static files, the print view under its strict CSP, the
    OpenAPI document and the health check, as gunicorn sends them."""
    anonymous = requests.get(f"{served.url}/", allow_redirects=False, timeout=TIMEOUT)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"] == "/login?next=%2F"

    css = requests.get(f"{served.url}/static/css/memoflow.css", timeout=TIMEOUT)
    assert css.status_code == 200
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"
    font = requests.get(f"{served.url}/static/fonts/Sarabun-Regular.woff2", timeout=TIMEOUT)
    assert font.status_code == 200 and font.headers["Content-Type"] == "font/woff2"
    assert font.content.startswith(b"wOF2")

    memo = officer.numbered()
    printed = browser.get(f"{served.url}/memos/{memo['id']}/print", timeout=TIMEOUT)
    assert printed.status_code == 200
    assert printed.headers["Content-Type"] == "text/html; charset=utf-8"
    assert printed.headers["Content-Security-Policy"].startswith("default-src 'none'")
    printed.encoding = "utf-8"
    assert memo["number"] in printed.text and "บันทึกข้อความ" in printed.text

    document = requests.get(f"{served.url}/api/v1/openapi.json", timeout=TIMEOUT)
    assert document.status_code == 200 and document.headers["Content-Type"] == "application/json"
    assert document.json()["openapi"].startswith("3.")
    assert "/api/v1/memos/{memo_id}/pdf" in document.json()["paths"]

    health = requests.get(f"{served.url}/healthz", timeout=TIMEOUT)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health.headers["Cache-Control"] == "no-store"
