"""Hostile input through the API and the forms.

Text that merely looks dangerous (markup, template syntax, zero-width and right-to-left
characters, which Thai typists really use) is stored exactly and shown inert: escaped in
every page and in the printable document. Input that is malformed, oversized or
forbidden (control characters, bad JSON, wrong types, unknown fields, missing CSRF
tokens, forged or revoked API tokens, oversized or disguised uploads) gets a clear 4xx,
never a 500. After every refusal nothing is partly written and the audit chain verifies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import select

from config import Config
from models import ApiToken, Blob, SecurityEvent
from tests.conftest import ApiClient, Office, seed_memo_fields
from tests.security.conftest import Browser, chain_verifies, csrf_token_in, snapshot
from webapp.db import database
from workflow import accounts

TEXT_FIELDS = ("unit", "subject", "to", "background", "facts", "proposal")
MARKUP = (
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "</textarea><svg onload=alert(2)>",
    "' onmouseover='alert(3)",
    "{{ 7*7 }}{% if 1 %}jinja{% endif %}",
    "javascript:alert(4)",
)
# Raw fragments that must never reach a page unescaped.
DANGEROUS = ("<script>alert", "<img src=x", "<svg onload", "onmouseover='alert")
CONTROL_CHARACTERS = ("\x00", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f")
# Zero-width space/non-joiner/joiner, word joiner, BOM, right-to-left mark and override,
# isolates: Thai typists use the first ones; all must be kept exactly and stay inert.
INVISIBLE = "ก\u200bข\u200cค\u200dง\u2060จ\ufeffฉ \u200fช \u202eซฌ\u202c \u2067ญ\u2069"


def marked(field: str, index: int) -> str:
    return f"ช่อง{field} {MARKUP[index % len(MARKUP)]} จบ"


def assert_inert(html: str, where: str) -> None:
    for fragment in DANGEROUS:
        assert fragment not in html, (where, fragment)


def memo_pages(app: Any, memo_id: int) -> list[str]:
    """The HTML pages that show this memo (document pages included when they exist)."""
    pages = [f"/memos/{memo_id}", "/memos", "/memos/mine", "/"]
    for suffix in ("print", "verify"):
        path = f"/memos/{memo_id}/{suffix}"
        if any(rule.rule == f"/memos/<int:memo_id>/{suffix}" for rule in app.url_map.iter_rules()):
            pages.append(path)
    return pages


# --- markup and invisible characters: stored exactly, shown inert ---------------------


def test_markup_in_every_text_field_is_stored_exactly_and_escaped_everywhere(
    app: Any, browser: Callable[[str | None], Browser], cast_api: ApiClient
) -> None:
    api, office = cast_api, cast_api.office
    fields = {name: marked(name, i) for i, name in enumerate(TEXT_FIELDS)}
    created = api.post("officer", "/api/v1/memos", fields)
    assert created.status_code == 201, created.get_json()
    memo_id = created.get_json()["id"]
    filename = "<img src=x onerror=alert(1)>รายงาน.txt"
    uploaded = api.post(
        "officer",
        f"/api/v1/memos/{memo_id}/attachments",
        data={"file": (BytesIO(b"<script>alert(5)</script>"), filename)},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    officer = browser("officer")
    edit_page = officer.html(f"/memos/{memo_id}/edit")
    assert_inert(edit_page, "edit form")
    for value in fields.values():
        assert str(escape(value)) in edit_page
    assert api.act("officer", memo_id, "submit").status_code == 200
    opinions = {"head": MARKUP[0], "palad": MARKUP[1], "mayor": MARKUP[4]}
    assert api.act("head", memo_id, "endorse", opinion=opinions["head"]).status_code == 200
    assert api.act("palad", memo_id, "endorse", opinion=opinions["palad"]).status_code == 200
    signed = api.act("mayor", memo_id, "sign", decision="approved", opinion=opinions["mayor"])
    assert signed.status_code == 200

    memo = api.get("officer", f"/api/v1/memos/{memo_id}").get_json()
    assert {name: memo[name] for name in TEXT_FIELDS} == fields
    assert [o["text"] for o in memo["opinions"]] == list(opinions.values())
    assert memo["attachments"][0]["name"] == filename
    for user in ("officer", "mayor"):
        reader = browser(user)
        for path in memo_pages(app, memo_id):
            page = reader.client.get(path)
            assert page.status_code == 200, (path, page.status_code)
            text = page.get_data(as_text=True)
            assert_inert(text, path)
        page = reader.html(f"/memos/{memo_id}")
        assert "&lt;script&gt;alert(" in page
        assert "{{ 7*7 }}" in page and ">49<" not in page
    download = officer.client.get(f"/memos/{memo_id}/attachments/{memo['attachments'][0]['id']}")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.mimetype == "text/plain"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    chain_verifies(office)


def test_markup_typed_into_the_html_forms_is_stored_exactly(
    browser: Callable[[str | None], Browser], cast_api: ApiClient
) -> None:
    officer = browser("officer")
    fields = {name: marked(name, i + 1) for i, name in enumerate(TEXT_FIELDS)}
    response = officer.client.post("/memos/new", data=fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    memo_id = int(response.location.rsplit("/", 1)[-1])
    stored = cast_api.get("officer", f"/api/v1/memos/{memo_id}").get_json()
    assert {name: stored[name] for name in TEXT_FIELDS} == fields
    assert_inert(officer.html(f"/memos/{memo_id}"), "memo page")
    chain_verifies(cast_api.office)


def test_zero_width_and_right_to_left_characters_are_kept_exactly(
    app: Any, browser: Callable[[str | None], Browser], cast_api: ApiClient
) -> None:
    api = cast_api
    fields = seed_memo_fields() | {"subject": INVISIBLE, "facts": f"ข้อเท็จจริง\n{INVISIBLE}"}
    memo_id = api.post("officer", "/api/v1/memos", fields).get_json()["id"]
    assert api.act("officer", memo_id, "submit").status_code == 200
    assert api.act("head", memo_id, "endorse", opinion=INVISIBLE).status_code == 200
    memo = api.get("head", f"/api/v1/memos/{memo_id}").get_json()
    assert memo["subject"] == INVISIBLE and memo["opinions"][0]["text"] == INVISIBLE
    assert memo["facts"] == f"ข้อเท็จจริง\n{INVISIBLE}"
    reader = browser("head")
    for path in memo_pages(app, memo_id):
        page = reader.client.get(path).get_data(as_text=True)
        if path in (f"/memos/{memo_id}", "/memos"):
            assert INVISIBLE in page, path
        # The characters are text: no entity, tag or attribute is made of them.
        assert "<\u202e" not in page and "\u202e>" not in page
    chain_verifies(api.office)


# --- refused: control characters, sizes, malformed bodies ------------------------------


@pytest.mark.parametrize("character", CONTROL_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_are_refused_in_every_field(
    browser: Callable[[str | None], Browser], cast_api: ApiClient, character: str
) -> None:
    api, office = cast_api, cast_api.office
    draft = office.create()
    pending = office.submitted()
    officer = browser("officer")
    head = browser("head")
    api.token("officer"), api.token("head")
    before = snapshot(office)
    for name in TEXT_FIELDS:
        bad = seed_memo_fields() | {name: f"ก{character}ข"}
        response = api.post("officer", "/api/v1/memos", bad)
        assert response.status_code == 422 and name in response.get_json()["error"]["fields"]
        patched = api.patch("officer", f"/api/v1/memos/{draft}", {name: f"ก{character}ข"})
        assert patched.status_code == 422, name
        form = officer.client.post("/memos/new", data=bad)
        assert form.status_code == 422, name
        edited = officer.client.post(f"/memos/{draft}/edit", data={name: f"ก{character}ข"})
        assert edited.status_code == 422, name
    opinion = f"เห็นควร{character}"
    assert api.act("head", pending, "endorse", opinion=opinion).status_code == 422
    assert (
        head.client.post(
            f"/memos/{pending}", data={"action": "endorse", "opinion": opinion}
        ).status_code
        == 422
    )
    upload = api.post(
        "officer",
        f"/api/v1/memos/{draft}/attachments",
        data={"file": (BytesIO(b"text"), f"a{character}b.txt")},
        content_type="multipart/form-data",
    )
    assert upload.status_code in (400, 422), upload.get_json()
    assert snapshot(office) == before
    chain_verifies(office)


def test_newlines_and_tabs_are_text(cast_api: ApiClient) -> None:
    """Newline and tab are what body text is made of; CR LF is stored as LF."""
    body = seed_memo_fields() | {"facts": "๑.\tข้อหนึ่ง\r\n๒.\tข้อสอง\n"}
    memo = cast_api.post("officer", "/api/v1/memos", body).get_json()
    assert memo["facts"] == "๑.\tข้อหนึ่ง\n๒.\tข้อสอง\n"


@pytest.mark.parametrize(
    ("field", "size"),
    [("subject", 1_000_000), ("facts", 10_000_000)],
    ids=["1MB-subject", "10MB-body"],
)
def test_oversized_text_gets_a_clear_4xx(
    browser: Callable[[str | None], Browser], cast_api: ApiClient, field: str, size: int
) -> None:
    api, office = cast_api, cast_api.office
    draft = office.create()
    officer = browser("officer")
    api.token("officer"), api.token("head")
    before = snapshot(office)
    value = "ก" * size
    for response in (
        api.post("officer", "/api/v1/memos", seed_memo_fields() | {field: value}),
        api.patch("officer", f"/api/v1/memos/{draft}", {field: value}),
    ):
        assert response.status_code in (413, 422), response.status_code
        error = response.get_json()["error"]
        assert error["code"] in ("too_large", "validation_failed")
        assert error["message"]
        if response.status_code == 422:
            assert field in error["fields"] and "ยาวเกิน" in error["fields"][field]
    for response in (
        officer.client.post("/memos/new", data=seed_memo_fields() | {field: value}),
        officer.client.post(f"/memos/{draft}/edit", data={field: value}),
    ):
        assert response.status_code in (413, 422), response.status_code
        text = response.get_data(as_text=True)
        assert "ยาวเกิน" in text or "ใหญ่เกิน" in text
    long_opinion = "ก" * 10_001
    pending = office.submitted()
    before = snapshot(office)
    refused = api.act("head", pending, "endorse", opinion=long_opinion)
    assert refused.status_code == 422 and "opinion" in refused.get_json()["error"]["fields"]
    assert snapshot(office) == before
    chain_verifies(office)


JSON_ENDPOINTS = [
    ("post", "/api/v1/memos"),
    ("patch", "/api/v1/memos/{memo_id}"),
    ("post", "/api/v1/memos/{memo_id}/actions"),
    ("post", "/api/v1/memos/{memo_id}/admin-open"),
    ("post", "/api/v1/acting"),
]
MALFORMED: list[tuple[str, bytes | str, str, int]] = [
    ("truncated", '{"subject": "ก",', "application/json", 400),
    ("invalid-utf8", b'{"subject": "\xff\xfe", "to": "x"}', "application/json", 400),
    ("not-an-object", "[1, 2, 3]", "application/json", 422),
    ("null", "null", "application/json", 422),
    ("deeply-nested", "[" * 100_000 + "]" * 100_000, "application/json", 400),
    ("huge-number", '{"version": 1' + "0" * 5000 + "}", "application/json", 422),
    ("nan", '{"version": NaN, "action": "submit"}', "application/json", 422),
]


@pytest.mark.parametrize(("method", "template"), JSON_ENDPOINTS)
@pytest.mark.parametrize(
    ("label", "body", "content_type", "status"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_json_is_a_clear_4xx(
    cast_api: ApiClient,
    method: str,
    template: str,
    label: str,
    body: bytes | str,
    content_type: str,
    status: int,
) -> None:
    api, office = cast_api, cast_api.office
    memo_id = office.submitted()
    user = "admin" if "admin" in template or "acting" in template else "officer"
    api.token(user)
    before = snapshot(office)
    response = getattr(api.client, method)(
        template.format(memo_id=memo_id),
        data=body,
        content_type=content_type,
        headers=api.headers(user),
    )
    assert 400 <= response.status_code < 500, (label, response.status_code)
    if label in ("truncated", "invalid-utf8", "deeply-nested"):
        assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    assert snapshot(office) == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/memos", {"subject": ["ก"], "to": "x"}, "subject"),
        ("/api/v1/memos", {"subject": "ก", "to": {"a": 1}}, "to"),
        ("/api/v1/memos", {"subject": "ก", "to": "x", "secrecy": 1}, "secrecy"),
        ("/api/v1/memos", {"subject": "ก", "to": "x", "author_id": 3}, "author_id"),
        ("/api/v1/memos", {"subject": "ก", "to": "x", "state": "signed"}, "state"),
        ("/api/v1/memos", {"subject": "ก", "to": "x", "number": "พท 1/1"}, "number"),
        ("/api/v1/memos/{memo_id}/actions", {"action": "sign", "version": "one"}, "version"),
        ("/api/v1/memos/{memo_id}/actions", {"action": "approve"}, "action"),
        ("/api/v1/memos/{memo_id}/actions", {"action": ["submit"]}, "action"),
        ("/api/v1/memos/{memo_id}/actions", {"action": "submit", "as": "mayor"}, "as"),
    ],
)
def test_wrong_types_and_unknown_fields_are_422_naming_the_field(
    cast_api: ApiClient, path: str, body: dict[str, Any], field: str
) -> None:
    api, office = cast_api, cast_api.office
    memo_id = office.create()
    api.token("officer")
    before = snapshot(office)
    response = api.post("officer", path.format(memo_id=memo_id), body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert snapshot(office) == before


def test_absurd_ids_in_urls_are_404(
    browser: Callable[[str | None], Browser], cast_api: ApiClient
) -> None:
    """Ids past what the database column holds answer 404, not an overflow error."""
    officer = browser("officer")
    admin = browser("admin")
    for huge in (2**31, 2**63, 10**30):
        assert cast_api.get("officer", f"/api/v1/memos/{huge}").status_code == 404
        assert cast_api.get("officer", f"/api/v1/memos/{huge}/audit").status_code == 404
        assert officer.client.get(f"/memos/{huge}").status_code == 404
        assert officer.client.post(f"/memos/{huge}", data={"action": "submit"}).status_code == 404
        assert admin.client.get(f"/admin/users/{huge}").status_code == 404


def test_invalid_utf8_in_a_form_is_never_stored_as_bytes(
    browser: Callable[[str | None], Browser], cast_api: ApiClient
) -> None:
    """Browsers send UTF-8; a client that does not gets a 4xx, or text (Werkzeug keeps
    the undecodable percent-escapes as typed): never a 500, never the raw bytes."""
    officer = browser("officer")
    response = officer.client.post(
        "/memos/new",
        data=b"subject=%FF%FE%E0%B8&to=%E0%B8%99%E0%B8%B2%E0%B8%A2%E0%B8%81",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (302, 400, 422)
    if response.status_code == 302:
        memo_id = int(response.location.rsplit("/", 1)[-1])
        stored = cast_api.get("officer", f"/api/v1/memos/{memo_id}").get_json()
        # Werkzeug leaves undecodable percent-escapes as they were typed.
        assert stored["subject"] in ("%FF%FE%E0%B8", "\ufffd\ufffd\ufffd")
        assert stored["to"] == "นายก"
    chain_verifies(cast_api.office)


# --- CSRF on every form ------------------------------------------------------------------


def html_forms(app: Any, ids: dict[str, int]) -> list[str]:
    """Every POST path of the pages (not the API), from the URL map."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "POST" in (rule.methods or ()) and not rule.rule.startswith("/api/"):
            paths.append(rule.build({name: ids.get(name, 1) for name in rule.arguments})[1])
    return sorted(paths)


def test_every_form_refuses_a_missing_wrong_or_foreign_csrf_token(
    app: Any, cast_office: Office
) -> None:
    office = cast_office
    assert app.config.get("WTF_CSRF_ENABLED", True)
    memo_id = office.create()
    office.run(lambda s: accounts.create_token(s, office.user(s, "head")))
    token_id = office.run(lambda s: s.execute(select(ApiToken.id)).scalar_one())
    ids = {
        "memo_id": memo_id,
        "user_id": office.run(lambda s: office.user(s, "head").id),
        "token_id": token_id,
    }
    forms = html_forms(app, ids)
    assert "/login" in forms and f"/memos/{memo_id}" in forms and "/admin/users" in forms
    victim = {user: Browser(app, office, user) for user in ("officer", "admin")}
    foreign = csrf_token_in(Browser(app, office, "head").html(f"/memos/{office.submitted()}"))
    before = snapshot(office)
    for path in forms:
        for user, client in victim.items():
            for token in (None, "forged-token", foreign):
                data: dict[str, Any] = {
                    "action": "submit",
                    "subject": "แก้โดยผู้ไม่หวังดี",
                    "to": "x",
                    "username": "intruder",
                    "full_name": "x",
                    "position": "x",
                    "role": "admin",
                    "password": "pw-of-intruder-1",
                    "active": "0",
                }
                if token:
                    data["csrf_token"] = token
                response = client.client.post(path, data=data)
                assert response.status_code == 400, (user, path, token, response.status_code)
                assert "หน้าอาจหมดอายุ" in response.get_data(as_text=True)
    assert snapshot(office) == before
    # The same requests with the page's own token are accepted (the refusal was CSRF).
    page = victim["officer"].html(f"/memos/{memo_id}")
    accepted = victim["officer"].client.post(
        f"/memos/{memo_id}", data={"action": "submit", "csrf_token": csrf_token_in(page)}
    )
    assert accepted.status_code == 302
    chain_verifies(office)


# --- API tokens --------------------------------------------------------------------------


def test_forged_revoked_and_misplaced_tokens_are_401_and_logged(cast_api: ApiClient) -> None:
    api, office = cast_api, cast_api.office
    good = api.token("head")
    digest = office.run(lambda s: s.execute(select(ApiToken.token_sha256)).scalar_one())
    api.token("retired")
    office.run(lambda s: setattr(office.user(s, "retired"), "active", False))
    revoked = office.run(lambda s: accounts.create_token(s, office.user(s, "palad")))
    office.run(
        lambda s: accounts.revoke_token(
            s, s.execute(select(ApiToken.id).order_by(ApiToken.id.desc())).scalars().first()
        )
    )
    assert good not in str(snapshot(office)), "the token itself must never be stored"
    attempts = {
        "forged": {"Authorization": "Bearer " + "A" * 43},
        "the stored digest": {"Authorization": f"Bearer {digest}"},
        "sql": {"Authorization": "Bearer ' OR '1'='1"},
        "revoked": {"Authorization": f"Bearer {revoked}"},
        "deactivated user": {"Authorization": f"Bearer {api.tokens['retired']}"},
        "basic scheme": {"Authorization": f"Basic {good}"},
        "empty bearer": {"Authorization": "Bearer "},
        "no header": {},
    }
    for label, headers in attempts.items():
        for path in ("/api/v1/inbox", "/api/v1/memos"):
            response = api.client.get(path, headers=headers)
            assert response.status_code == 401, (label, path)
            assert response.get_json()["error"]["code"] == "unauthorized"
    assert api.client.get(f"/api/v1/inbox?token={good}").status_code == 401
    assert (
        api.client.get("/api/v1/inbox", headers={"Authorization": f"Bearer {good}"}).status_code
        == 200
    )
    logged = office.run(
        lambda s: (
            s.execute(select(SecurityEvent.kind).where(SecurityEvent.kind == "token_refused"))
            .scalars()
            .all()
        )
    )
    assert len(logged) >= len(attempts) * 2


# --- uploads -----------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML_PAGE = b"<!doctype html><script>alert(1)</script>"


@pytest.mark.parametrize(
    ("name", "data", "stored_as"),
    [
        ("../../../etc/passwd.txt", b"root:x:0:0", "passwd.txt"),
        ("/etc/shadow.txt", b"root:*:1", "shadow.txt"),
        ("C:\\Windows\\System32\\drivers.txt", b"ok", "drivers.txt"),
        ("..\\..\\boot.ini.txt", b"ok", "boot.ini.txt"),
        ("รายงานผลการประเมิน ITA ๒๕๖๕.pdf", PDF, "รายงานผลการประเมิน ITA ๒๕๖๕.pdf"),
        ("ข้อ\u200bมูล.csv", "ก,ข\n".encode(), "ข้อ\u200bมูล.csv"),
        ("page.txt", HTML_PAGE, "page.txt"),
    ],
    ids=["dotdot", "absolute", "windows", "windows-dotdot", "thai", "zero-width", "html-as-txt"],
)
def test_file_names_are_for_display_and_contents_are_stored_by_hash(
    app: Any,
    browser: Callable[[str | None], Browser],
    cast_api: ApiClient,
    tmp_path: Path,
    name: str,
    data: bytes,
    stored_as: str,
) -> None:
    office = cast_api.office
    memo_id = office.create()
    officer = browser("officer")
    files_before = sorted(p for p in tmp_path.rglob("*") if "test.db" not in p.name)
    page = officer.client.post(
        f"/memos/{memo_id}/attachments",
        data={"file": (BytesIO(data), name), "version": "1"},
        content_type="multipart/form-data",
    )
    assert page.status_code == 302
    memo = cast_api.get("officer", f"/api/v1/memos/{memo_id}").get_json()
    [shown] = [a["name"] for a in memo["attachments"]]
    # Werkzeug's multipart parser drops backslashes of a quoted Windows path; either way
    # no separator survives.
    assert shown == stored_as or (shown.endswith(stored_as) and "\\" not in shown)
    assert "/" not in shown and "\\" not in shown
    digest = hashlib.sha256(data).hexdigest()
    assert memo["attachments"][0]["sha256"] == digest
    assert office.run(lambda s: s.get(Blob, digest).data) == data
    # Nothing was written to the file system under the uploaded name (or any name).
    files_after = sorted(p for p in tmp_path.rglob("*") if "test.db" not in p.name)
    assert files_after == files_before
    download = officer.client.get(f"/memos/{memo_id}/attachments/{memo['attachments'][0]['id']}")
    assert download.data == data
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "script" not in download.mimetype and "html" not in download.mimetype


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("setup.exe", WINDOWS_EXE),
        ("program", ELF),
        ("report.pdf", ELF),
        ("report.pdf", WINDOWS_EXE),
        ("report.docx", WINDOWS_EXE),
        ("photo.png", PDF),
        ("report.pdf", PNG),
        ("drawing.svg", SVG),
        ("page.html", HTML_PAGE),
        ("page.htm", HTML_PAGE),
        ("run.sh", b"#!/bin/sh\n"),
        ("macro.docm", b"PK\x03\x04"),
        ("..", PDF),
        ("../", PDF),
        ("a\nb.txt", b"text"),
        ("a\rb.txt", b"text"),
        ("x\u202etxt.exe", b"text"),
        ("x" * 300 + ".txt", b"text"),
    ],
    ids=[
        "exe",
        "elf",
        "elf-as-pdf",
        "exe-as-pdf",
        "exe-as-docx",
        "pdf-as-png",
        "png-as-pdf",
        "svg",
        "html",
        "htm",
        "shell",
        "docm",
        "dotdot",
        "dotdot-slash",
        "newline",
        "carriage-return",
        "rtl-override",
        "too-long",
    ],
)
def test_dangerous_uploads_are_refused_through_the_form_and_the_api(
    browser: Callable[[str | None], Browser], cast_api: ApiClient, name: str, data: bytes
) -> None:
    api, office = cast_api, cast_api.office
    memo_id = office.create()
    officer = browser("officer")
    api.token("officer")
    before = snapshot(office)
    response = api.post(
        "officer",
        f"/api/v1/memos/{memo_id}/attachments",
        data={"file": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code in (400, 422), (response.status_code, response.get_json())
    assert response.get_json()["error"]["message"]
    page = officer.client.post(
        f"/memos/{memo_id}/attachments",
        data={"file": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert page.status_code in (302, 400, 422)
    if page.status_code == 302:  # the form flashes the reason on the page it returns to
        assert "ไม่ได้แนบไฟล์" in officer.html(page.location) or "แนบ" in officer.html(page.location)
    assert snapshot(office) == before
    chain_verifies(office)


def test_uploads_over_the_limit_are_413_through_the_form_and_the_api(
    tmp_path: Path, database_url: str, engine: Any
) -> None:
    from webapp import create_app

    app = create_app(
        Config(HOME=tmp_path, DATABASE_URL=database_url, SECRET_KEY="t", MAX_UPLOAD_MB=0.05),
        WTF_CSRF_ENABLED=False,
    )
    try:
        office = Office(database(app).sessions)
        api = ApiClient(app.test_client(), office)
        memo_id = office.create()
        api.token("officer")
        officer = Browser(app, office, "officer")
        before = snapshot(office)
        big = PDF + b"0" * 60_000
        by_api = api.post(
            "officer",
            f"/api/v1/memos/{memo_id}/attachments",
            data={"file": (BytesIO(big), "big.pdf")},
            content_type="multipart/form-data",
        )
        assert by_api.status_code == 413
        assert "0.05 MB" in by_api.get_json()["error"]["message"]
        by_form = officer.client.post(
            f"/memos/{memo_id}/attachments",
            data={"file": (BytesIO(big), "big.pdf")},
            content_type="multipart/form-data",
        )
        assert by_form.status_code == 413
        assert "ใหญ่เกิน" in by_form.get_data(as_text=True)
        # Past MAX_CONTENT_LENGTH: refused before the body is read. The body is built
        # here, not by the test client, which would spool it to a file it never closes.
        far_too_big = officer.client.post(
            f"/memos/{memo_id}/attachments",
            data=multipart_body("huge.pdf", b"0" * 2_000_000),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        )
        assert far_too_big.status_code == 413
        assert snapshot(office) == before
        chain_verifies(office)
    finally:
        database(app).engine.dispose()


BOUNDARY = "memoflow-test-boundary"


def multipart_body(filename: str, data: bytes, *, encoded_name: str | None = None) -> bytes:
    """A multipart/form-data body with one file field, as a browser or client sends it;
    ``encoded_name`` sends the name RFC 5987 style (``filename*=UTF-8''...``)."""
    name = f"filename*=UTF-8''{encoded_name}" if encoded_name else f'filename="{filename}"'
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; {name}\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


@pytest.mark.parametrize(
    "encoded", ["a%0Ab.txt", "a%0D%0AX-Injected%3A%201.txt", "a%09b.txt", "%2E%2E"]
)
def test_a_file_name_is_one_line_even_when_percent_encoded(
    cast_api: ApiClient, encoded: str
) -> None:
    """RFC 5987 ``filename*`` lets a client send any character in a name. A line break
    there used to be stored, and every later download of the file failed (a 500), since
    the name goes back out in the Content-Disposition header."""
    api, office = cast_api, cast_api.office
    memo_id = office.create()
    api.token("officer")
    before = snapshot(office)
    response = api.post(
        "officer",
        f"/api/v1/memos/{memo_id}/attachments",
        data=multipart_body("", b"hello", encoded_name=encoded),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["file"] == "ชื่อไฟล์ไม่ถูกต้อง"
    assert snapshot(office) == before


def test_windows_paths_keep_only_the_last_component() -> None:
    from workflow.actions import safe_display_name

    assert safe_display_name("C:\\Windows\\System32\\drivers.txt") == "drivers.txt"
    assert safe_display_name("..\\..\\รายงาน.pdf") == "รายงาน.pdf"
    assert safe_display_name("/var/lib/memoflow/../x.csv") == "x.csv"
