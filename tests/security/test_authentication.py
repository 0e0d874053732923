"""Authentication and headers: Argon2 hashes, login rate limiting, a new session at login,
cookie flags, the security headers on every kind of response, the password policy, and a
security log of sign-ins, failures and refusals."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select

from config import Config
from models import SecurityEvent, SignIn, User
from tests.conftest import PASSWORD, ApiClient, Office
from tests.security.conftest import Browser, csrf_token_in
from webapp.db import database
from webapp.extensions import SIGN_IN_KEY
from workflow import accounts, clock
from workflow.errors import ValidationFailed


def test_passwords_are_stored_as_argon2id_hashes(cast_office: Office) -> None:
    rows = cast_office.run(lambda s: s.execute(select(User.username, User.password_hash)).all())
    assert rows
    for username, stored in rows:
        assert stored.startswith("$argon2id$"), username
        assert PASSWORD not in stored
    assert len({stored for _, stored in rows}) == len(rows), "every hash has its own salt"


def test_production_argon2_parameters_are_not_the_test_ones(monkeypatch: Any) -> None:
    """Tests run with a cheap Argon2 (MEMOFLOW_PASSWORD_HASH=fast); without that setting
    the hash costs at least what OWASP asks for Argon2id (19 MiB, 2 passes)."""
    monkeypatch.delenv("MEMOFLOW_PASSWORD_HASH")
    parameters = extract_parameters(accounts.hash_password("a-long-password"))
    assert parameters.memory_cost >= 19 * 1024 and parameters.time_cost >= 2
    assert isinstance(accounts.password_hasher(), PasswordHasher)


def test_the_password_policy_is_enforced_everywhere(
    browser: Callable[[str | None], Browser], cast_office: Office
) -> None:
    with pytest.raises(ValidationFailed):
        accounts.validate_password("short7!")
    admin = browser("admin")
    head_id = cast_office.run(lambda s: cast_office.user(s, "head").id)
    before = cast_office.run(lambda s: cast_office.user(s, "head").password_hash)
    refused = admin.client.post(f"/admin/users/{head_id}/password", data={"password": "1234567"})
    assert refused.status_code in (302, 422)
    assert cast_office.run(lambda s: cast_office.user(s, "head").password_hash) == before
    added = admin.client.post(
        "/admin/users",
        data={
            "username": "weak",
            "full_name": "นาย อ่อน",
            "position": "x",
            "role": "officer",
            "password": "abc",
        },
    )
    assert added.status_code == 422
    assert cast_office.run(lambda s: accounts.find_user(s, "weak")) is None


def limited_app(tmp_path: Path, database_url: str, **overrides: Any) -> Any:
    from webapp import create_app

    return create_app(
        Config(HOME=tmp_path, DATABASE_URL=database_url, SECRET_KEY="t", TESTING=True),
        RATELIMIT_ENABLED=True,
        WTF_CSRF_ENABLED=False,
        **overrides,
    )


def test_the_default_login_rate_limit_stops_password_guessing(
    tmp_path: Path, database_url: str, engine: Any
) -> None:
    """With the production limit (10 failures a minute per address), the 11th guess is
    refused even with the right password; other addresses are not affected."""
    app = limited_app(tmp_path, database_url)
    try:
        Office(database(app).sessions)
        client = app.test_client()
        for attempt in range(10):
            data = {"username": "mayor", "password": f"guess-{attempt}"}
            guess = client.post("/login", data=data)
            assert guess.status_code == 200, attempt
        blocked = client.post("/login", data={"username": "mayor", "password": PASSWORD})
        assert blocked.status_code == 429
        unknown_user = client.post("/login", data={"username": "nobody", "password": "x" * 9})
        assert unknown_user.status_code == 429
        elsewhere = app.test_client().post(
            "/login",
            data={"username": "mayor", "password": PASSWORD},
            environ_base={"REMOTE_ADDR": "10.0.0.7"},
        )
        assert elsewhere.status_code == 302
    finally:
        database(app).engine.dispose()


def guess_from(client: Any, count: int, **headers: str) -> list[int]:
    """``count`` wrong passwords for the mayor; their status codes."""
    return [
        client.post(
            "/login", data={"username": "mayor", "password": f"guess-{n}"}, headers=headers
        ).status_code
        for n in range(count)
    ]


def test_a_forged_forwarded_address_does_not_escape_the_login_limit(
    tmp_path: Path, database_url: str, engine: Any
) -> None:
    """With no proxy configured (the default), X-Forwarded-For is not believed: a guesser
    who sends a new address with every try is still stopped after ten, and the security
    log records the address the connection came from."""
    app = limited_app(tmp_path, database_url)
    try:
        office = Office(database(app).sessions)
        client = app.test_client()
        codes = [
            guess_from(client, 1, **{"X-Forwarded-For": f"203.0.113.{n}"})[0] for n in range(11)
        ]
        assert codes == [200] * 10 + [429]
        addresses = office.run(
            lambda s: set(s.execute(select(SecurityEvent.remote_addr)).scalars())
        )
        assert addresses == {"127.0.0.1"}
    finally:
        database(app).engine.dispose()


def test_behind_a_proxy_each_client_has_its_own_login_limit(
    tmp_path: Path, database_url: str, engine: Any, monkeypatch: Any
) -> None:
    """MEMOFLOW_TRUSTED_PROXIES=1 (memoflow behind nginx): every request comes from the
    proxy's address, and the client's is the last X-Forwarded-For entry. One guessing
    client is stopped; another client behind the same proxy still signs in; the security
    log names the clients, not the proxy; an entry the client forged before the proxy's
    own is not believed."""
    monkeypatch.setenv("MEMOFLOW_TRUSTED_PROXIES", "1")
    app = limited_app(tmp_path, database_url)
    try:
        office = Office(database(app).sessions)
        proxy = app.test_client()
        guesser = {"X-Forwarded-For": "203.0.113.9"}
        assert guess_from(proxy, 10, **guesser) == [200] * 10
        assert guess_from(proxy, 1, **guesser) == [429]
        forged = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
        assert guess_from(proxy, 1, **forged) == [429]
        colleague = proxy.post(
            "/login",
            data={"username": "mayor", "password": PASSWORD},
            headers={"X-Forwarded-For": "192.168.1.25"},
        )
        assert colleague.status_code == 302
        logged = office.run(
            lambda s: [
                (e.kind, e.remote_addr)
                for e in s.execute(select(SecurityEvent).order_by(SecurityEvent.id)).scalars()
            ]
        )
        assert logged[0] == ("login_failed", "203.0.113.9")
        assert logged[-1] == ("login", "192.168.1.25")
        assert "127.0.0.1" not in {address for _, address in logged}
    finally:
        database(app).engine.dispose()


def test_a_wrong_proxy_count_is_refused_at_start(monkeypatch: Any) -> None:
    monkeypatch.setenv("MEMOFLOW_TRUSTED_PROXIES", "nginx")
    with pytest.raises(ValueError, match="MEMOFLOW_TRUSTED_PROXIES"):
        Config(SECRET_KEY="t", DATABASE_URL="sqlite://")


def redis_url() -> str:
    url = os.environ.get("MEMOFLOW_TEST_REDIS_URL", "")
    if not url:
        pytest.skip("no Redis: set MEMOFLOW_TEST_REDIS_URL (.ci/run does)")
    return url


def failures_alternating(apps: list[Any], count: int) -> Any:
    """``count`` failed logins for the mayor, taking turns between ``apps`` (workers), then
    the right password on the first: its response."""
    clients = [app.test_client() for app in apps]
    for attempt in range(count):
        data = {"username": "mayor", "password": f"guess-{attempt}"}
        assert clients[attempt % len(clients)].post("/login", data=data).status_code == 200
    return clients[0].post("/login", data={"username": "mayor", "password": PASSWORD})


def test_workers_share_the_login_limit_through_redis(
    tmp_path: Path, database_url: str, engine: Any
) -> None:
    """Two apps stand for two gunicorn workers. With the limit in Redis, failures counted
    by one worker count for the other; in each worker's memory, the same ten failures
    split five and five block nobody."""
    shared = {"RATELIMIT_STORAGE_URI": redis_url(), "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex}
    apps = [limited_app(tmp_path, database_url, **shared) for _ in range(2)]
    alone = [
        limited_app(tmp_path, database_url, RATELIMIT_STORAGE_URI="memory://") for _ in range(2)
    ]
    try:
        Office(database(apps[0]).sessions)
        assert failures_alternating(apps, 10).status_code == 429
        assert failures_alternating(alone, 10).status_code == 302
    finally:
        for app in apps + alone:
            database(app).engine.dispose()


def test_signing_in_survives_an_outage_of_the_shared_limit_store(
    tmp_path: Path, database_url: str, engine: Any
) -> None:
    """Redis down (here: nobody listens where the limit store should be). Signing in still
    works, and password guessing is still limited, in the worker's own memory, until the
    store is back; not a 500 for everyone."""
    app = limited_app(tmp_path, database_url, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    try:
        Office(database(app).sessions)
        client = app.test_client()
        assert (
            client.post("/login", data={"username": "officer", "password": PASSWORD}).status_code
            == 302
        )
        assert failures_alternating([app], 10).status_code == 429
    finally:
        database(app).engine.dispose()


def session_cookie(response: Any) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith("session="):
            return str(header)
    return ""


def test_login_gives_a_new_session_and_a_stolen_anonymous_one_is_worth_nothing(
    app: Any, cast_office: Office
) -> None:
    client = app.test_client()
    login_page = client.get("/login")
    anonymous_cookie = session_cookie(login_page)
    assert anonymous_cookie, "the login page sets a session for its CSRF token"
    token = csrf_token_in(login_page.get_data(as_text=True))
    signed_in = client.post(
        "/login", data={"username": "officer", "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 302
    new_cookie = session_cookie(signed_in)
    assert new_cookie and new_cookie.split(";")[0] != anonymous_cookie.split(";")[0]
    # The pre-login CSRF token does not survive the login.
    with client.session_transaction() as session:
        assert session.get("csrf_token") is None or session["csrf_token"] != token
    # Someone holding the pre-login cookie (session fixation) is still anonymous.
    attacker = app.test_client()
    attacker.set_cookie("session", anonymous_cookie.split(";")[0].split("=", 1)[1])
    assert attacker.get("/").status_code == 302


def test_cookie_flags(app: Any, cast_office: Office, tmp_path: Path, monkeypatch: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    response = app.test_client().post("/login", data={"username": "officer", "password": PASSWORD})
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    monkeypatch.setenv("MEMOFLOW_SECURE_COOKIES", "1")
    from webapp import create_app

    secure = create_app(
        Config(HOME=tmp_path, DATABASE_URL=app.config["DATABASE_URL"], SECRET_KEY="t"),
        WTF_CSRF_ENABLED=False,
    )
    try:
        response = secure.test_client().post(
            "/login", data={"username": "officer", "password": PASSWORD}
        )
        cookie = session_cookie(response)
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        database(secure).engine.dispose()


def check_headers(response: Any, where: str) -> None:
    headers = response.headers
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin"), where
    policy = headers.get("Content-Security-Policy", "")
    directives = {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in policy.split(";")
        if part.strip()
    }
    assert directives.get("frame-ancestors") == "'none'", (where, policy)
    script = directives.get("script-src", directives.get("default-src", ""))
    assert script, (where, policy)
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, (where, policy)
    assert "*" not in script.split(), (where, policy)
    if "print" not in where:
        assert "'unsafe-inline'" not in policy, (where, policy)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def test_security_headers_on_every_kind_of_response(
    app: Any, browser: Callable[[str | None], Browser], cast_api: ApiClient
) -> None:
    office = cast_api.office
    memo_id = office.signed()
    officer = browser("officer")
    admin = browser("admin")
    anonymous = browser(None)
    responses = {
        "login page": anonymous.client.get("/login"),
        "redirect": anonymous.client.get("/"),
        "static": anonymous.client.get("/static/css/memoflow.css"),
        "404 page": officer.client.get("/memos/999999"),
        "403 page": officer.client.get("/admin/users"),
        "inbox": officer.client.get("/"),
        "memo page": officer.client.get(f"/memos/{memo_id}"),
        "list": officer.client.get("/memos"),
        "new memo": officer.client.get("/memos/new"),
        "admin": admin.client.get("/admin/users"),
        "api": cast_api.get("officer", f"/api/v1/memos/{memo_id}"),
        "api 401": cast_api.get(None, "/api/v1/inbox"),
        "api 404": cast_api.get("officer", "/api/v1/memos/999999"),
        "openapi": anonymous.client.get("/api/v1/openapi.json"),
    }
    if any(rule.rule.endswith("/print") for rule in app.url_map.iter_rules()):
        responses["print view"] = officer.client.get(f"/memos/{memo_id}/print")
    for where, response in responses.items():
        assert response.status_code < 500, where
        check_headers(response, where)
        if response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            assert not INLINE_SCRIPT.search(page), (where, INLINE_SCRIPT.search(page))
            assert not EVENT_HANDLER.search(page), (where, EVENT_HANDLER.search(page))
        response.close()


def security_log(office: Office) -> list[tuple[str, str, str]]:
    return list(
        office.run(
            lambda s: [
                (e.kind, e.username, e.detail)
                for e in s.execute(select(SecurityEvent).order_by(SecurityEvent.id)).scalars()
            ]
        )
    )


def test_the_security_log_records_sign_ins_failures_and_refusals(
    browser: Callable[[str | None], Browser], cast_api: ApiClient
) -> None:
    api, office = cast_api, cast_api.office
    memo_id = office.submitted()
    anonymous = browser(None)
    anonymous.client.post("/login", data={"username": "mayor", "password": "wrong-guess"})
    anonymous.client.post("/login", data={"username": "ghost", "password": "wrong-guess"})
    anonymous.client.post("/login", data={"username": "retired", "password": PASSWORD})
    office.run(lambda s: setattr(office.user(s, "retired"), "active", False))
    anonymous.client.post("/login", data={"username": "retired", "password": PASSWORD})
    mayor = browser("mayor")
    mayor.client.post(f"/memos/{memo_id}", data={"action": "sign", "decision": "approved"})
    browser("officer").client.get("/admin/users")
    api.act("palad", memo_id, "endorse", opinion="ข้ามขั้น")
    api.client.get("/api/v1/inbox", headers={"Authorization": "Bearer stolen"})
    log = security_log(office)
    kinds = [(kind, username) for kind, username, _ in log]
    assert ("login_failed", "mayor") in kinds
    assert ("login_failed", "ghost") in kinds
    assert ("login", "retired") in kinds
    assert any(k == "login_failed" and u == "retired" and "inactive" in d for k, u, d in log)
    assert ("login", "mayor") in kinds
    assert any(k == "refused" and u == "mayor" and f"/memos/{memo_id}" in d for k, u, d in log)
    assert any(k == "refused" and u == "officer" and "/admin/users" in d for k, u, d in log)
    assert ("refused", "palad") in kinds
    assert ("token_refused", "") in kinds
    assert all("wrong-guess" not in detail for _, _, detail in log), "no password is logged"


def test_a_copied_session_cookie_dies_at_logout_and_password_reset(
    app: Any, cast_office: Office
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    stolen = session_cookie(
        client.post("/login", data={"username": "officer", "password": PASSWORD})
    )
    thief = app.test_client()
    thief.set_cookie("session", stolen.split(";")[0].split("=", 1)[1])
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    client.post("/logout")
    assert thief.get("/").status_code == 302

    # A password reset by an admin ends the sessions too.
    again = session_cookie(
        client.post("/login", data={"username": "officer", "password": PASSWORD})
    )
    thief = app.test_client()
    thief.set_cookie("session", again.split(";")[0].split("=", 1)[1])
    assert thief.get("/").status_code == 200

    def reset(session: Any) -> None:
        from workflow import admin

        admin.reset_password(
            session,
            cast_office.user(session, "admin"),
            cast_office.user(session, "officer"),
            "a-brand-new-password",
        )

    cast_office.run(reset)
    assert thief.get("/").status_code == 302
    assert client.get("/").status_code == 302


def _signed_in(app: Any, username: str = "officer") -> Any:
    """A browser (test client) signed in through the login form."""
    browser = app.test_client()
    signed_in = browser.post("/login", data={"username": username, "password": PASSWORD})
    assert signed_in.status_code == 302
    return browser


def _copy_of(app: Any, browser: Any) -> Any:
    """Another client holding a copy of ``browser``'s session cookie."""
    cookie = browser.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def test_signing_out_ends_this_browsers_session_and_leaves_the_others(
    app: Any, cast_office: Office
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    office_pc, phone = _signed_in(app), _signed_in(app)
    thief = _copy_of(app, office_pc)
    assert thief.get("/").status_code == 200
    signed_out = office_pc.post("/logout")
    assert signed_out.location == "/login"
    assert "ออกจากระบบแล้ว" in office_pc.get("/login").get_data(as_text=True)
    assert office_pc.get("/").status_code == 302
    assert thief.get("/").status_code == 302  # the copy died with the sign-in
    assert phone.get("/").status_code == 200  # the phone stays signed in


def test_signing_out_everywhere_ends_every_browsers_session(app: Any, cast_office: Office) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    office_pc, phone = _signed_in(app), _signed_in(app)
    palad = _signed_in(app, "palad")
    # Every signed-in page's footer leads to the sign-out page with "every device" ticked.
    inbox = office_pc.get("/").get_data(as_text=True)
    assert '<a href="/logout?everywhere=1">ออกจากระบบในทุกอุปกรณ์</a>' in inbox
    page = office_pc.get("/logout?everywhere=1").get_data(as_text=True)
    assert 'name="everywhere" value="1" checked' in page
    assert "ออกจากระบบในอุปกรณ์อื่นของฉันด้วย" in page
    assert "checked" not in office_pc.get("/logout").get_data(as_text=True)
    office_pc.post("/logout", data={"everywhere": "1"})
    assert "ออกจากระบบในทุกอุปกรณ์แล้ว" in office_pc.get("/login").get_data(as_text=True)
    assert phone.get("/").status_code == 302
    assert office_pc.get("/").status_code == 302
    assert palad.get("/").status_code == 200  # someone else's sessions are not touched
    assert cast_office.run(lambda s: s.scalars(select(SignIn.user_id)).all()) == [
        cast_office.run(lambda s: cast_office.user(s, "palad").id)
    ]


def test_a_sign_in_is_stored_as_a_hash_and_lasts_the_session_lifetime(
    app: Any, cast_office: Office
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    browser = _signed_in(app)
    with browser.session_transaction() as session:
        key = session[SIGN_IN_KEY]
    stored = cast_office.run(lambda s: s.scalars(select(SignIn.key_sha256)).all())
    assert stored == [hashlib.sha256(key.encode()).hexdigest()] and key not in stored
    lifetime = app.permanent_session_lifetime
    with clock.frozen(clock.now() + lifetime - timedelta(minutes=1)):
        assert browser.get("/").status_code == 200
    with clock.frozen(clock.now() + lifetime + timedelta(minutes=1)):
        assert browser.get("/").status_code == 302
        # The next sign-in forgets the expired one.
        _signed_in(app)
        assert len(cast_office.run(lambda s: s.scalars(select(SignIn.id)).all())) == 1


def test_deactivation_ends_every_session_and_token_at_once(
    browser: Callable[[str | None], Browser], cast_api: ApiClient
) -> None:
    head = browser("head")
    cast_api.token("head")
    assert head.client.get("/").status_code == 200
    assert cast_api.get("head", "/api/v1/inbox").status_code == 200
    cast_api.office.run(lambda s: setattr(cast_api.office.user(s, "head"), "active", False))
    assert head.client.get("/").status_code == 302
    assert cast_api.get("head", "/api/v1/inbox").status_code == 401


def test_a_session_ended_by_deactivation_stays_ended_after_reactivation(
    app: Any, cast_office: Office
) -> None:
    """A lost laptop: the admin deactivates the account, then reactivates it for the
    person's new one. The laptop's session cookie is worth nothing, before and after."""
    app.config["WTF_CSRF_ENABLED"] = False
    laptop = _signed_in(app, "head")
    assert laptop.get("/").status_code == 200

    def switch(active: bool) -> None:
        def work(session: Any) -> None:
            from workflow import admin

            admin.set_active(
                session,
                cast_office.user(session, "admin"),
                cast_office.user(session, "head"),
                active,
            )

        cast_office.run(work)

    switch(False)
    assert laptop.get("/").status_code == 302
    switch(True)
    assert laptop.get("/").status_code == 302
    assert _signed_in(app, "head").get("/").status_code == 200


def test_tokens_revoked_by_deactivation_stay_revoked_after_reactivation(
    cast_api: ApiClient,
) -> None:
    """A script's token for someone who left: deactivation revokes it for good (the
    account's sessions end for good as well, above), and the audit event names the
    tokens it revoked, not one revoked before."""
    from models import ApiToken, AuditEvent
    from workflow import admin

    office = cast_api.office
    cast_api.token("head")
    cast_api.token("palad")
    revoked_before = office.run(lambda s: _revoked_token(s, office.user(s, "head")))
    assert cast_api.get("head", "/api/v1/inbox").status_code == 200

    def switch(active: bool) -> None:
        office.run(
            lambda s: admin.set_active(s, office.user(s, "admin"), office.user(s, "head"), active)
        )

    switch(False)
    switch(True)
    assert cast_api.get("head", "/api/v1/inbox").status_code == 401
    assert cast_api.get("palad", "/api/v1/inbox").status_code == 200

    def heads_tokens_and_event(session: Any) -> tuple[list[Any], dict[str, Any]]:
        head = office.user(session, "head")
        tokens = session.execute(
            select(ApiToken.id, ApiToken.revoked_at)
            .where(ApiToken.user_id == head.id)
            .order_by(ApiToken.id)
        ).all()
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user_deactivate"))
        return list(tokens), event.one().details

    tokens, details = office.run(heads_tokens_and_event)
    assert all(revoked_at is not None for _id, revoked_at in tokens)
    assert details["tokens_revoked"] == [i for i, _ in tokens if i != revoked_before]
    assert len(details["tokens_revoked"]) == 1


def _revoked_token(session: Any, user: User) -> int:
    """A token of ``user`` revoked at once; its row id."""
    _token, row = accounts.issue_token(session, user, "old")
    accounts.revoke_token(session, row.id)
    return int(row.id)
