"""Acting for others on the screens: the admin records and ends an authorisation; the
acting person finds the memo in their inbox, acts, and the page prints the block the
Thai way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from workflow import acting, clock

NOON = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
ORDER = "คำสั่ง อบต.ควนขนุน ที่ 12/2569"
PALAD_TITLE = "ปลัดองค์การบริหารส่วนตำบลควนขนุน"


@pytest.fixture(autouse=True)
def at_noon() -> Any:
    with clock.frozen(NOON):
        yield


def record(admin: Any, **fields: str) -> Any:
    data = {
        "username": "head",
        "step": "permanent_secretary",
        "capacity": "รักษาราชการแทน",
        "order": ORDER,
        "from": "2026-11-20",
        "to": "2026-11-30",
    } | fields
    return admin.post("/admin/acting", data)


def test_delegated_endorse_through_the_screens(as_user: Any) -> None:
    admin = as_user("admin")
    assert record(admin).status_code == 302
    listing = admin.text("/admin/acting")
    assert "นางสาวสุพัตรา ชูกลิ่น" in listing and ORDER in listing and "รักษาราชการแทน" in listing

    head = as_user("head")
    memo_id = head.office.submitted()
    assert head.act(memo_id, "endorse", opinion="เห็นควรเสนอ").status_code == 302
    inbox = head.text("/")
    assert f'href="/memos/{memo_id}"' in inbox
    palad = as_user("palad")
    assert f'href="/memos/{memo_id}"' not in palad.text("/")
    assert palad.act(memo_id, "endorse", opinion="เห็นควร").status_code == 403

    assert head.act(memo_id, "endorse", opinion="เห็นควรทราบ").status_code == 302
    page = head.text(f"/memos/{memo_id}")
    assert "หัวหน้าสำนักปลัด รักษาราชการแทน" in page
    assert f'<p class="sig-position">{PALAD_TITLE}</p>' in page


def test_delegated_sign_and_an_ended_authorisation(as_user: Any) -> None:
    admin = as_user("admin")
    record(admin, username="palad", step="mayor", capacity="ปฏิบัติราชการแทน")
    palad = as_user("palad")
    memo_id = palad.office.submitted()
    palad.office.act("head", "endorse", memo_id, opinion="เห็นควร")
    palad.office.act("palad", "endorse", memo_id, opinion="เห็นควร")
    assert palad.act(memo_id, "sign", decision="approved", opinion="อนุมัติ").status_code == 302
    assert palad.office.memo(memo_id).opinions[-1].capacity == "ปฏิบัติราชการแทน"

    authorisation = palad.office.run(
        lambda s: acting.list_authorisations(s, palad.office.organisation_id)[0].id
    )
    assert admin.post(f"/admin/acting/{authorisation}/end").status_code == 302
    assert "ended" in admin.text("/admin/acting") or "สิ้นสุด" in admin.text("/admin/acting")
    other = palad.office.submitted()
    palad.office.act("head", "endorse", other, opinion="เห็นควร")
    palad.office.act("palad", "endorse", other, opinion="เห็นควร")
    assert palad.act(other, "sign", decision="approved").status_code in (403, 409)


def test_bad_authorisations_are_refused_with_messages(as_user: Any) -> None:
    admin = as_user("admin")
    record(admin)
    overlapping = record(admin, username="officer", capacity="ปฏิบัติราชการแทน")
    assert overlapping.status_code == 422
    assert "ซ้อนกัน" in overlapping.get_data(as_text=True)
    backwards = record(
        admin,
        username="mayor",
        step="head_of_office",
        **{"from": "2026-12-05"},
        to="2026-12-01",
        capacity="รักษาการในตำแหน่ง",
    )
    assert backwards.status_code == 422
    assert as_user("head").get("/admin/acting").status_code == 403
