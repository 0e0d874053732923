"""Signing in and out: messages, session rotation, redirects, CSRF, rate limiting."""

from __future__ import annotations

from typing import Any

from config import Config
from tests.conftest import PASSWORD, Office
from tests.web.conftest import Web, csrf_token_in
from webapp.db import database


def test_login_page_is_thai_first(anonymous: Web) -> None:
    html = anonymous.text("/login")
    assert '<html lang="th">' in html
    assert "เข้าสู่ระบบ" in html and 'name="username"' in html and 'name="password"' in html


def test_pages_need_a_login(anonymous: Web) -> None:
    for path in ("/", "/memos", "/memos/mine", "/memos/new", "/memos/1", "/admin/users"):
        response = anonymous.get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/login?next="), path


def test_wrong_password_and_unknown_user_get_the_same_thai_message(anonymous: Web) -> None:
    wrong = anonymous.post("/login", {"username": "officer", "password": "not-the-password"})
    unknown = anonymous.post("/login", {"username": "nobody", "password": "not-the-password"})
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in response.get_data(as_text=True)
    empty = anonymous.post("/login", {"username": "", "password": ""})
    assert "กรุณากรอกชื่อผู้ใช้และรหัสผ่าน" in empty.get_data(as_text=True)


def test_deactivated_account_is_told_so_only_with_the_right_password(
    anonymous: Web, app_office: Office
) -> None:
    app_office.run(lambda s: setattr(app_office.user(s, "head"), "active", False))
    right = anonymous.post("/login", {"username": "head", "password": PASSWORD})
    assert right.status_code == 200
    assert "บัญชีนี้ถูกระงับการใช้งาน" in right.get_data(as_text=True)
    wrong = anonymous.post("/login", {"username": "head", "password": "guessing-123"})
    assert "บัญชีนี้ถูกระงับ" not in wrong.get_data(as_text=True)
    assert anonymous.get("/").status_code == 302


def test_login_starts_a_new_session_and_goes_to_next(anonymous: Web) -> None:
    with anonymous.client.session_transaction() as session:
        session["planted"] = "by an attacker"
    response = anonymous.post(
        "/login", {"username": "officer", "password": PASSWORD, "next": "/memos/mine"}
    )
    assert response.status_code == 302 and response.location == "/memos/mine"
    with anonymous.client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]


def test_next_never_leaves_the_site(anonymous: Web) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        response = anonymous.post(
            "/login", {"username": "officer", "password": PASSWORD, "next": target}
        )
        assert response.location == "/", target
        anonymous.post("/logout")


def test_session_cookie_is_httponly_and_samesite(anonymous: Web) -> None:
    response = anonymous.login("officer")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_logout_needs_a_post(as_user: Any) -> None:
    web = as_user("officer")
    confirm = web.get("/logout")
    assert confirm.status_code == 200 and 'action="/logout"' in confirm.get_data(as_text=True)
    assert web.get("/").status_code == 200, "a GET must not sign out"
    done = web.post("/logout")
    assert done.status_code == 302 and done.location == "/login"
    assert web.get("/").status_code == 302


def test_signed_in_user_visiting_login_goes_home(as_user: Any) -> None:
    assert as_user("officer").get("/login").location == "/"


def test_csrf_is_enforced_on_login_and_on_actions(app: Any, app_office: Office) -> None:
    assert app.config.get("WTF_CSRF_ENABLED", True)
    client = app.test_client()
    refused = client.post("/login", data={"username": "officer", "password": PASSWORD})
    assert refused.status_code == 400
    assert "หน้าอาจหมดอายุ" in refused.get_data(as_text=True)
    token = csrf_token_in(client.get("/login").get_data(as_text=True))
    accepted = client.post(
        "/login", data={"username": "officer", "password": PASSWORD, "csrf_token": token}
    )
    assert accepted.status_code == 302
    memo_id = app_office.create()
    forged = client.post(f"/memos/{memo_id}", data={"action": "submit"})
    assert forged.status_code == 400
    assert app_office.memo(memo_id).state == "draft"
    page = client.get(f"/memos/{memo_id}").get_data(as_text=True)
    submitted = client.post(
        f"/memos/{memo_id}", data={"action": "submit", "csrf_token": csrf_token_in(page)}
    )
    assert submitted.status_code == 302
    assert app_office.memo(memo_id).state == "pending_head_of_office"


def test_failed_logins_are_rate_limited(tmp_path: Any, database_url: str, app: Any) -> None:
    from webapp import create_app

    limited = create_app(
        Config(HOME=tmp_path, DATABASE_URL=database_url, SECRET_KEY="t", TESTING=True),
        RATELIMIT_ENABLED=True,
        LOGIN_RATE_LIMIT="3 per minute",
        WTF_CSRF_ENABLED=False,
    )
    try:
        Office(database(limited).sessions)
        client = limited.test_client()
        # A successful login does not use up the allowance.
        assert (
            client.post("/login", data={"username": "officer", "password": PASSWORD}).status_code
            == 302
        )
        client.post("/logout")
        for _ in range(3):
            bad = client.post("/login", data={"username": "officer", "password": "wrong-pass"})
            assert bad.status_code == 200
        blocked = client.post("/login", data={"username": "officer", "password": PASSWORD})
        assert blocked.status_code == 429
        assert "กรุณารอสักครู่" in blocked.get_data(as_text=True)
        assert client.get("/login").status_code == 200, "only POST is limited"
        # The limiter is this app's own: the test app next door is not limited.
        other = app.test_client()
        for _ in range(5):
            response = other.post("/login", data={"username": "officer", "password": "wrong-pass"})
            assert response.status_code in (200, 400)
    finally:
        database(limited).engine.dispose()


def test_language_switch_keeps_english_in_a_cookie(as_user: Any) -> None:
    web = as_user("officer")
    response = web.get("/?lang=en")
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html and "Inbox" in html
    assert "lang=en" in response.headers["Set-Cookie"]
    again = web.text("/memos")
    assert '<html lang="en">' in again and "All memos" in again
    back = web.text("/?lang=th")
    assert "งานรอพิจารณา" in back


def test_a_username_with_a_nul_is_refused_like_any_unknown_one(
    anonymous: Web, app_office: Office
) -> None:
    """PostgreSQL refuses NUL in text: the lookup and the security log's record of the
    attempt must not make a probe a 500."""
    from sqlalchemy import select

    from models import SecurityEvent

    probe = anonymous.post("/login", {"username": "off\x00icer", "password": "x"})
    assert probe.status_code == 200
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in probe.get_data(as_text=True)
    logged = app_office.run(
        lambda s: s.scalars(
            select(SecurityEvent.username).where(SecurityEvent.kind == "login_failed")
        ).all()
    )
    assert logged == ["off\\x00icer"]
