"""The admin pages: users, tokens, the route, the organisation; and who may not use them."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select

from models import AuditEvent
from tests.conftest import PASSWORD, Office
from tests.web.conftest import Web
from workflow import accounts
from workflow import admin as admin_ops
from workflow.accounts import find_user


def user_id(office: Office, username: str) -> int:
    return int(office.run(lambda s: office.user(s, username).id))


def test_only_an_admin_gets_in(as_user: Any) -> None:
    for username in ("officer", "mayor"):
        web = as_user(username)
        for path in (
            "/admin/",
            "/admin/users",
            "/admin/route",
            "/admin/organisation",
            "/admin/audit",
        ):
            assert web.get(path).status_code == 403, (username, path)
        assert web.post("/admin/users", {"username": "x"}).status_code == 403
    admin = as_user("admin")
    assert admin.get("/admin/").location == "/admin/users"
    html = admin.text("/admin/users")
    assert "นางสาวสุพัตรา ชูกลิ่น" in html and "head_of_office" in html


# A new clerk, as the admin fills in the "add a user" form.
CLERK_FORM = {
    "username": "clerk",
    "password": "clerk-password-1",
    "full_name": "นายสมชาย ใจดี",
    "position": "เจ้าพนักงานธุรการ",
    "role": "officer",
    "unit": "สำนักงานปลัด",
}


def test_add_a_user_who_can_then_sign_in(as_user: Any, anonymous: Web) -> None:
    admin = as_user("admin")
    form = CLERK_FORM
    response = admin.post("/admin/users", form)
    assert response.status_code == 302
    assert "เพิ่ม นายสมชาย ใจดี (clerk) แล้ว" in admin.text(response.location)
    anonymous.login("clerk", "clerk-password-1")
    taken = admin.post("/admin/users", form)
    assert taken.status_code == 422
    assert re.search(r'id="username-error">ถูกใช้ไปแล้ว<', taken.get_data(as_text=True))
    short = admin.post("/admin/users", form | {"username": "other", "password": "short"})
    assert short.status_code == 422
    assert "ต้องยาวอย่างน้อย 8 ตัวอักษร" in short.get_data(as_text=True)


def test_edit_position_role_and_unit(as_user: Any, app_office: Office) -> None:
    admin = as_user("admin")
    head_id = user_id(app_office, "head")
    page = admin.text(f"/admin/users/{head_id}")
    assert 'value="head_of_office"' in page
    response = admin.post(
        f"/admin/users/{head_id}",
        {
            "full_name": "นางสาวสุพัตรา ชูกลิ่น",
            "position": "หัวหน้าสำนักปลัด (รักษาการ)",
            "role": "head_of_office",
            "unit": "สำนักงานปลัด",
        },
    )
    assert response.status_code == 302
    head = app_office.run(lambda s: (lambda u: (u.position, u.unit))(app_office.user(s, "head")))
    assert head == ("หัวหน้าสำนักปลัด (รักษาการ)", "สำนักงานปลัด")
    empty = admin.post(
        f"/admin/users/{head_id}", {"full_name": "", "position": "x", "role": "x", "unit": ""}
    )
    assert empty.status_code == 422 and 'id="full_name-error"' in empty.get_data(as_text=True)
    own = admin.post(
        f"/admin/users/{user_id(app_office, 'admin')}",
        {"full_name": "ผู้ดูแลระบบ", "position": "ผู้ดูแลระบบ", "role": "officer", "unit": ""},
    )
    assert own.status_code == 422, "an admin cannot demote themselves"


def test_reset_password_and_deactivate(as_user: Any, app_office: Office, anonymous: Web) -> None:
    admin = as_user("admin")
    officer_id = user_id(app_office, "officer")
    assert admin.post(f"/admin/users/{officer_id}/password", {"password": "x"}).status_code == 422
    assert (
        admin.post(
            f"/admin/users/{officer_id}/password", {"password": "new-password-9"}
        ).status_code
        == 302
    )
    anonymous.login("officer", "new-password-9")
    anonymous.post("/logout")

    page = admin.text(f"/admin/users/{officer_id}")
    assert re.search(r'name="active" value="0"', page) and "data-confirm" in page
    assert admin.post(f"/admin/users/{officer_id}/active", {"active": "0"}).status_code == 302
    refused = anonymous.post("/login", {"username": "officer", "password": "new-password-9"})
    assert "บัญชีนี้ถูกระงับการใช้งาน" in refused.get_data(as_text=True)
    assert "ถูกระงับ" in admin.text("/admin/users")
    assert admin.post(f"/admin/users/{officer_id}/active", {"active": "1"}).status_code == 302
    anonymous.login("officer", "new-password-9")

    self_off = admin.post(f"/admin/users/{user_id(app_office, 'admin')}/active", {"active": "0"})
    assert "ไม่สามารถระงับบัญชีของตนเองได้" in admin.text(self_off.location)
    assert app_office.run(lambda s: find_user(s, "admin").active)  # type: ignore[union-attr]


def test_api_tokens_are_shown_once_and_can_be_revoked(as_user: Any, app_office: Office) -> None:
    admin = as_user("admin")
    mayor_id = user_id(app_office, "mayor")
    created = admin.post(f"/admin/users/{mayor_id}/tokens", {"label": "สคริปต์รายงาน"})
    assert created.status_code == 201
    token = re.search(r'id="new-token">([^<]+)<', created.get_data(as_text=True))
    assert token
    bearer = {"Authorization": f"Bearer {token.group(1)}"}
    assert admin.client.get("/api/v1/inbox", headers=bearer).status_code == 200
    page = admin.text(f"/admin/users/{mayor_id}")
    assert token.group(1) not in page and "สคริปต์รายงาน" in page
    token_id = re.search(rf"/admin/users/{mayor_id}/tokens/(\d+)/revoke", page)
    assert token_id
    revoked = admin.post(f"/admin/users/{mayor_id}/tokens/{token_id.group(1)}/revoke")
    assert revoked.status_code == 302
    assert admin.client.get("/api/v1/inbox", headers=bearer).status_code == 401
    officer_id = user_id(app_office, "officer")
    wrong_owner = admin.post(f"/admin/users/{officer_id}/tokens/{token_id.group(1)}/revoke")
    assert wrong_owner.status_code == 404
    # Whoever holds a token acts as its user, so its issue and its revocation are audited.
    events = app_office.run(
        lambda s: [
            (e.action, e.actor_name, e.details.get("username"), e.details.get("token_id"))
            for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if e.action.startswith("token_")
        ]
    )
    assert events == [
        ("token_create", "ผู้ดูแลระบบ", "mayor", int(token_id.group(1))),
        ("token_revoke", "ผู้ดูแลระบบ", "mayor", int(token_id.group(1))),
    ]


def test_unknown_user_is_404(as_user: Any) -> None:
    assert as_user("admin").get("/admin/users/999").status_code == 404


def test_route_is_shown_and_edited_as_data(as_user: Any, app_office: Office) -> None:
    admin = as_user("admin")
    page = admin.text("/admin/route")
    assert "ความเห็นหัวหน้าสำนักปลัด" in page and "permanent_secretary" in page
    steps = [
        {
            "key": "permanent_secretary",
            "role": "permanent_secretary",
            "label": "ความเห็นปลัด{organisation}",
            "title": "ปลัด{organisation}",
        },
        {"key": "mayor", "role": "mayor", "label": "", "title": "นายก{organisation}"},
    ]
    saved = admin.post("/admin/route", {"route": json.dumps(steps, ensure_ascii=False)})
    assert saved.status_code == 302
    memo_id = app_office.submitted()
    assert app_office.memo(memo_id).state == "pending_permanent_secretary"
    assert "ความเห็นปลัดองค์การบริหารส่วนตำบลควนขนุน" in admin.text("/admin/route")

    not_json = admin.post("/admin/route", {"route": "[{"})
    assert not_json.status_code == 422
    assert "ข้อมูลไม่ใช่ JSON ที่ถูกต้อง" in not_json.get_data(as_text=True)
    bad = admin.post("/admin/route", {"route": json.dumps([{"key": "x", "role": "admin"}])})
    assert bad.status_code == 422 and "ใช้เส้นทางนี้ไม่ได้" in bad.get_data(as_text=True)


def test_organisation_settings(as_user: Any, app_office: Office) -> None:
    admin = as_user("admin")
    page = admin.text("/admin/organisation")
    assert 'value="พท 72001"' in page
    saved = admin.post(
        "/admin/organisation",
        {
            "name": "องค์การบริหารส่วนตำบลควนขนุน",
            "short_name": "อบต.ควนขนุน",
            "number_prefix": "พท 72001.1",
            "thai_digits": "1",
        },
    )
    assert saved.status_code == 302
    memo_id = app_office.submitted()
    assert app_office.memo(memo_id).number == "พท 72001.1/1"
    assert "พท ๗๒๐๐๑.๑/๑" in as_user("officer").text(f"/memos/{memo_id}")
    empty = admin.post("/admin/organisation", {"name": "", "number_prefix": ""})
    assert empty.status_code == 422
    html = empty.get_data(as_text=True)
    assert 'id="name-error"' in html and 'id="number_prefix-error"' in html


def test_admin_sees_submitted_memos_but_no_action(as_user: Any, app_office: Office) -> None:
    memo_id = app_office.submitted()
    admin = as_user("admin")
    html = admin.text(f"/memos/{memo_id}")
    assert 'name="action"' not in html and 'id="no-actions"' in html
    assert PASSWORD not in html


def _audit_rows(html: str) -> list[tuple[str, str]]:
    """(sequence number, action) of each row of the audit page's table, top to bottom."""
    return re.findall(r'<tr data-seq="(\d+)" data-action="([a-z_]+)">', html)


def test_the_audit_page_lists_the_organisations_own_events_checked(
    as_user: Any, app_office: Office
) -> None:
    admin = as_user("admin")
    assert "ยังไม่มีรายการ" in admin.text("/admin/audit")
    admin.post("/admin/users", CLERK_FORM)
    clerk_id = user_id(app_office, "clerk")
    issued = admin.post(f"/admin/users/{clerk_id}/tokens", {"label": "รายงานประจำเดือน"})
    token = re.search(r'id="new-token">([^<]+)<', issued.get_data(as_text=True))
    assert token
    app_office.submitted()  # a memo's events belong on the memo's page, not here

    def elsewhere(session: Any) -> None:  # another organisation's events are not shown
        other = accounts.create_organisation(session, name="เทศบาลอื่น", number_prefix="ชม 1")
        admin_ops.add_user(
            session,
            None,
            other,
            username="outsider",
            full_name="นายนอก องค์กร",
            position="ผู้ดูแลระบบ",
            role="admin",
            password=PASSWORD,
        )

    app_office.run(elsewhere)
    html = admin.text("/admin/audit")
    assert [action for _, action in _audit_rows(html)] == ["token_create", "user_create"]
    assert "ทุกรายการในหน้านี้ตรวจสอบผ่าน" in html
    assert "ออกโทเค็น API" in html and "เพิ่มผู้ใช้" in html and "ผู้ดูแลระบบ" in html
    assert "clerk" in html and "รายงานประจำเดือน" in html
    assert token.group(1) not in html and "outsider" not in html
    assert html.count("ตรวจสอบผ่าน</span>") == 2

    # An event altered in the database without its hash no longer verifies, and says so.
    def tamper(session: Any) -> None:
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "user_create",
                AuditEvent.organisation_id == app_office.organisation_id,
            )
        ).one()
        event.details = {**event.details, "role": "admin"}

    app_office.run(tamper)
    html = admin.text("/admin/audit")
    assert 'data-outcome="bad"' in html and "ตรวจสอบไม่ผ่าน" in html
    assert html.count("ตรวจสอบไม่ผ่าน</span>") == 1


def test_the_audit_page_pages_back_through_older_events(as_user: Any, app_office: Office) -> None:
    def many_changes(session: Any) -> None:
        acting_admin = app_office.user(session, "admin")
        officer = app_office.user(session, "officer")
        for n in range(55):
            admin_ops.update_user(session, acting_admin, officer, position=f"ตำแหน่งที่ {n}")

    app_office.run(many_changes)
    admin = as_user("admin")
    first = _audit_rows(admin.text("/admin/audit"))
    assert len(first) == 50 and all(action == "user_update" for _, action in first)
    older = admin.text(f"/admin/audit?before={first[-1][0]}")
    second = _audit_rows(older)
    assert len(second) == 5
    assert ">รายการก่อนหน้า</a>" not in older and ">รายการล่าสุด</a>" in older
    sequence = [int(seq) for seq, _ in first + second]
    assert sequence == sorted(sequence, reverse=True) and len(set(sequence)) == 55


def test_the_audit_page_dates_events_in_the_readers_language(
    as_user: Any, app_office: Office
) -> None:
    """Bangkok time either way: the Buddhist era in Thai, as the document prints dates; in
    English the Gregorian year and English month an English reader expects."""
    from datetime import UTC, datetime

    from workflow import clock

    admin = as_user("admin")
    with clock.frozen(datetime(2026, 11, 26, 7, 5, tzinfo=UTC)):  # 14:05 in Bangkok
        admin.post("/admin/users", CLERK_FORM)
    thai = admin.text("/admin/audit")
    assert "26 พฤศจิกายน 2569 เวลา 14:05 น." in thai
    english = admin.text("/admin/audit?lang=en")
    assert "26 Nov 2026, 14:05" in english
    assert "พฤศจิกายน" not in english and "2569" not in english
