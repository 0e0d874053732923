"""The memo pages through the Flask test client: every screen and every refusal."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import SEED_CSV, SEED_MEMO, Office, seed_memo_fields

THAI_MONTHS = "|".join(
    [
        "มกราคม",
        "กุมภาพันธ์",
        "มีนาคม",
        "เมษายน",
        "พฤษภาคม",
        "มิถุนายน",
        "กรกฎาคม",
        "สิงหาคม",
        "กันยายน",
        "ตุลาคม",
        "พฤศจิกายน",
        "ธันวาคม",
    ]
)
FORM_DEFAULTS = {"urgency": "normal", "secrecy": "normal"}


def memo_form(**overrides: str) -> dict[str, str]:
    return seed_memo_fields() | FORM_DEFAULTS | overrides


def action_buttons(html: str) -> list[str]:
    return re.findall(r'name="action" value="([a-z]+)"', html)


# --- inbox and lists -----------------------------------------------------------------


def test_inbox_shows_what_waits_for_me_with_a_count(as_user: Any, app_office: Office) -> None:
    memo_id = app_office.submitted(urgency="most_urgent")
    head = as_user("head")
    html = head.text("/")
    assert "งานรอพิจารณา" in html
    assert f'href="/memos/{memo_id}"' in html
    assert "พท 72001/1" in html and SEED_MEMO["subject"] in html
    assert SEED_MEMO["author"]["name"] in html
    assert "ด่วนที่สุด" in html and "รอมาแล้ว" in html
    assert re.search(r'id="inbox-count"[^>]*>1<', html)
    palad_html = as_user("palad").text("/")
    assert "ไม่มีเรื่องรอคุณพิจารณา" in palad_html
    assert re.search(r'id="inbox-count"[^>]*>0<', palad_html)


def test_admin_home_is_the_admin_pages(as_user: Any) -> None:
    assert as_user("admin").get("/").location == "/admin/users"


def test_all_memos_search_by_thai_substring_number_and_state(
    as_user: Any, app_office: Office
) -> None:
    ita = app_office.submitted()
    other = app_office.submitted(subject="ขออนุมัติจัดซื้อวัสดุสำนักงาน")
    draft = app_office.create(subject="ร่างเรื่องภายใน")
    officer = as_user("officer")
    everything = officer.text("/memos")
    assert all(f'/memos/{i}"' in everything for i in (ita, other, draft))
    found = officer.text("/memos?q=คุณธรรม")
    assert f'/memos/{ita}"' in found and f'/memos/{other}"' not in found
    by_number = officer.text("/memos?q=72001/2")
    assert f'/memos/{other}"' in by_number and f'/memos/{ita}"' not in by_number
    drafts = officer.text("/memos?state=draft")
    assert f'/memos/{draft}"' in drafts and f'/memos/{ita}"' not in drafts
    assert 'value="draft" selected' in drafts
    head = as_user("head").text("/memos")
    assert f'/memos/{draft}"' not in head, "a draft is its author's alone"


def test_lists_are_paginated(as_user: Any, app_office: Office) -> None:
    ids = [app_office.create(subject=f"เรื่องที่ {n}") for n in range(25)]
    officer = as_user("officer")
    first = officer.text("/memos/mine")
    assert "หน้า 1 จาก 2" in first and 'rel="next"' in first
    second = officer.text("/memos/mine?page=2")
    assert f'/memos/{ids[0]}"' in second and f'/memos/{ids[-1]}"' not in second
    assert 'rel="prev"' in second
    assert officer.get("/memos/mine?page=abc").status_code == 200


def test_my_memos_are_only_mine(as_user: Any, app_office: Office) -> None:
    mine = app_office.create()
    theirs = app_office.submitted(username="head")
    html = as_user("head").text("/memos/mine")
    assert f'/memos/{theirs}"' in html and f'/memos/{mine}"' not in html


# --- new and edit --------------------------------------------------------------------


def test_new_memo_form_is_prefilled_with_my_unit_and_the_final_signer(as_user: Any) -> None:
    html = as_user("officer").text("/memos/new")
    assert f'value="{SEED_MEMO["unit"]}"' in html
    assert 'value="นายกองค์การบริหารส่วนตำบลควนขนุน"' in html
    for name in ("subject", "to", "unit", "background", "facts", "proposal", "urgency", "secrecy"):
        assert f'name="{name}"' in html, name
    assert "1. เรื่องเดิม" in html and "ข้อเสนอ/ข้อพิจารณา" in html


def test_create_a_draft_and_land_on_its_page(as_user: Any, app_office: Office) -> None:
    officer = as_user("officer")
    response = officer.post("/memos/new", memo_form(urgency="urgent"))
    assert response.status_code == 302
    memo_id = int(response.location.rsplit("/", 1)[1])
    memo = app_office.memo(memo_id)
    assert memo.state == "draft" and memo.urgency == "urgent"
    assert memo.facts == SEED_MEMO["facts"]
    html = officer.text(response.location)
    assert "บันทึกร่างแล้ว" in html
    assert action_buttons(html) == ["submit", "withdraw"]
    assert 'id="edit-link"' in html


def test_invalid_fields_are_explained_next_to_them_in_thai(as_user: Any) -> None:
    officer = as_user("officer")
    response = officer.post("/memos/new", memo_form(subject="  ", to="x" * 301))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="subject-error">จำเป็นต้องกรอก<', html)
    assert re.search(r'id="to-error">ยาวเกิน 300 ตัวอักษร<', html)
    assert SEED_MEMO["facts"].splitlines()[0] in html, "what was typed is kept"
    assert 'aria-invalid="true"' in html


def test_an_admin_cannot_write_memos(as_user: Any) -> None:
    admin = as_user("admin")
    assert admin.get("/memos/new").status_code == 403
    assert admin.post("/memos/new", memo_form()).status_code == 403
    assert 'href="/memos/new"' not in admin.text("/memos")


def test_edit_a_draft(as_user: Any, app_office: Office) -> None:
    memo_id = app_office.create()
    officer = as_user("officer")
    form = officer.text(f"/memos/{memo_id}/edit")
    assert 'name="version" value="1"' in form and SEED_MEMO["subject"] in form
    response = officer.post(
        f"/memos/{memo_id}/edit", memo_form(subject="เรื่องที่แก้ไขแล้ว", version="1")
    )
    assert response.status_code == 302
    assert app_office.memo(memo_id).subject == "เรื่องที่แก้ไขแล้ว"
    invalid = officer.post(f"/memos/{memo_id}/edit", memo_form(subject="", version="2"))
    assert invalid.status_code == 422 and 'id="subject-error"' in invalid.get_data(as_text=True)


def test_a_stale_edit_gets_a_conflict_page(as_user: Any, app_office: Office) -> None:
    memo_id = app_office.create()
    app_office.act("officer", "edit", memo_id, subject="เปลี่ยนจากอีกหน้าต่าง")
    response = as_user("officer").post(
        f"/memos/{memo_id}/edit", memo_form(subject="ฉบับเก่า", version="1")
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "เรื่องนี้มีการเปลี่ยนแปลง" in html and 'data-state="draft"' in html
    assert f'href="/memos/{memo_id}"' in html
    assert app_office.memo(memo_id).subject == "เปลี่ยนจากอีกหน้าต่าง"


def test_edit_refusals(as_user: Any, app_office: Office) -> None:
    draft = app_office.create()
    assert as_user("head").get(f"/memos/{draft}/edit").status_code == 404
    submitted = app_office.submitted()
    head = as_user("head")
    refused = head.get(f"/memos/{submitted}/edit")
    assert refused.status_code == 403
    assert SEED_MEMO["author"]["name"] in refused.get_data(as_text=True)
    assert head.post(f"/memos/{submitted}/edit", memo_form()).status_code == 403
    assert as_user("officer").get(f"/memos/{submitted}/edit").status_code == 409


# --- attachments ---------------------------------------------------------------------


def test_upload_and_download_an_attachment(as_user: Any, app_office: Office) -> None:
    memo_id = app_office.create()
    officer = as_user("officer")
    with open(SEED_CSV, "rb") as handle:
        response = officer.post(
            f"/memos/{memo_id}/attachments",
            {"file": (handle, "ita-measures-2565.csv"), "version": "1"},
            content_type="multipart/form-data",
        )
    assert response.status_code == 302 and response.location == f"/memos/{memo_id}"
    memo = app_office.memo(memo_id)
    assert [a.filename for a in memo.attachments] == ["ita-measures-2565.csv"]
    html = officer.text(f"/memos/{memo_id}")
    assert "ita-measures-2565.csv" in html and "แนบไฟล์ ita-measures-2565.csv แล้ว" in html
    download = officer.get(f"/memos/{memo_id}/attachments/{memo.attachments[0].id}")
    assert download.status_code == 200
    assert download.data == SEED_CSV.read_bytes()
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert (
        as_user("head").get(f"/memos/{memo_id}/attachments/{memo.attachments[0].id}").status_code
        == 404
    )


def test_upload_refusals(as_user: Any, app_office: Office, web_app: Any) -> None:
    memo_id = app_office.create()
    officer = as_user("officer")
    missing = officer.post(
        f"/memos/{memo_id}/attachments",
        {"version": "1", "back": "edit"},
        content_type="multipart/form-data",
    )
    assert missing.location == f"/memos/{memo_id}/edit"
    assert "แนบไฟล์ไม่สำเร็จ" in officer.text(missing.location)
    web_app.config["MAX_UPLOAD_BYTES"] = 100
    web_app.config["MAX_UPLOAD_MB"] = 0.0001
    with open(SEED_CSV, "rb") as handle:
        big = officer.post(
            f"/memos/{memo_id}/attachments",
            {"file": (handle, "ita.csv"), "version": "1"},
            content_type="multipart/form-data",
        )
    assert big.status_code == 413
    assert "ไฟล์ใหญ่เกินไป" in big.get_data(as_text=True)
    assert app_office.memo(memo_id).attachments == []


def test_the_author_removes_an_attachment_with_its_button(as_user: Any, app_office: Office) -> None:
    """On the edit page each file of a draft has a remove button (asking first); pressing
    it takes that file off, says so in Thai and lists the removal in the history. Once
    the memo is submitted nobody gets the button, and a stale page gets a conflict."""
    memo_id = app_office.create()
    officer = as_user("officer")
    for name in ("ผิดฉบับ.csv", "ita-measures-2565.csv"):
        with open(SEED_CSV, "rb") as handle:
            officer.post(
                f"/memos/{memo_id}/attachments",
                {"file": (handle, name), "version": app_office.memo(memo_id).version},
                content_type="multipart/form-data",
            )
    memo = app_office.memo(memo_id)
    wrong = memo.attachments[0]
    edit_page = officer.text(f"/memos/{memo_id}/edit")
    assert 'class="upload-form"' in edit_page  # more files can be attached here too
    assert edit_page.count('class="remove-form"') == 2
    assert 'data-confirm="นำไฟล์ ผิดฉบับ.csv ออกจากบันทึกข้อความหรือไม่?"' in edit_page
    stale = officer.post(
        f"/memos/{memo_id}/attachments/{wrong.id}/remove", {"version": memo.version - 1}
    )
    assert stale.status_code == 409
    removed = officer.post(
        f"/memos/{memo_id}/attachments/{wrong.id}/remove",
        {"version": memo.version, "back": "edit"},
    )
    assert removed.status_code == 302 and removed.location == f"/memos/{memo_id}/edit"
    assert "นำไฟล์ ผิดฉบับ.csv ออกแล้ว" in officer.text(removed.location)
    assert [a.filename for a in app_office.memo(memo_id).attachments] == ["ita-measures-2565.csv"]
    assert "นำไฟล์แนบออก" in officer.text(f"/memos/{memo_id}")
    officer.act(memo_id, "submit")
    assert 'class="remove-form"' not in officer.text(f"/memos/{memo_id}")
    assert 'class="remove-form"' not in as_user("head").text(f"/memos/{memo_id}")


# --- the memo page and the actions ---------------------------------------------------


def test_the_seed_memo_through_the_forms_to_signed(as_user: Any, app_office: Office) -> None:
    officer = as_user("officer")
    memo_id = int(officer.post("/memos/new", memo_form()).location.rsplit("/", 1)[1])
    submitted = officer.act(memo_id, "submit")
    assert submitted.status_code == 302
    assert "เสนอเรื่องแล้ว ที่ พท 72001/1" in officer.text(f"/memos/{memo_id}")

    waiting = as_user("palad").text(f"/memos/{memo_id}")
    assert waiting.count("cont-block cont-empty") == 3, "no step reached yet: three dotted blocks"
    assert 'cont-empty cont-current" id="step-head_of_office"' in waiting
    assert action_buttons(waiting) == [] and 'id="no-actions"' in waiting

    opinions = [step for step in SEED_MEMO["route"]]
    head = as_user("head")
    page = head.text(f"/memos/{memo_id}")
    assert action_buttons(page) == ["endorse", "return"]
    assert head.act(memo_id, "endorse", opinion="เห็นควรทราบ").status_code == 302
    palad = as_user("palad")
    assert palad.act(memo_id, "endorse", opinion="เห็นควรทราบและเผยแพร่").status_code == 302
    mayor = as_user("mayor")
    page = mayor.text(f"/memos/{memo_id}")
    assert action_buttons(page) == ["sign", "reject", "return"]
    assert 'data-confirm="' in page and 'name="decision" value="acknowledged"' in page
    signed = mayor.act(memo_id, "sign", decision="acknowledged", opinion="")
    assert signed.status_code == 302
    assert "ลงนามแล้ว: ทราบ" in mayor.text(f"/memos/{memo_id}")

    html = officer.text(f"/memos/{memo_id}")
    assert app_office.memo(memo_id).state == "signed"
    assert 'data-state="signed"' in html and "ลงนามแล้ว" in html
    for step in opinions:
        assert f"({step['name']})" in html and step["position"] in html
        if step["block_label"]:
            assert step["block_label"] in html
    assert f"({SEED_MEMO['author']['name']})" in html
    assert "เห็นควรทราบและเผยแพร่" in html and ">ทราบ<" in html
    assert "cont-empty" not in html
    assert re.search(rf"\d+ ({THAI_MONTHS}) 25\d\d", html), "Buddhist Era dates, Thai months"
    assert "เหตุการณ์ทั้ง 5 รายการของเรื่องนี้ถูกต้อง" in html
    assert html.count('data-verified="yes"') == 5
    assert action_buttons(html) == []


def test_body_keeps_its_newlines_and_is_escaped(as_user: Any, app_office: Office) -> None:
    memo_id = app_office.create(
        subject='<script>alert("x")</script> & "quotes"', facts="บรรทัดแรก\nบรรทัดที่สอง"
    )
    html = as_user("officer").text(f"/memos/{memo_id}")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;" in html
    assert 'id="memo-facts">บรรทัดแรก\nบรรทัดที่สอง<' in html


def test_return_with_reason_then_resubmit_shows_the_earlier_round(
    as_user: Any, app_office: Office
) -> None:
    memo_id = app_office.submitted()
    head = as_user("head")
    no_reason = head.act(memo_id, "return", opinion="   ")
    assert no_reason.status_code == 422
    html = no_reason.get_data(as_text=True)
    assert re.search(r'id="opinion-error">จำเป็นต้องกรอก<', html)
    assert app_office.memo(memo_id).state == "pending_head_of_office"
    assert head.act(memo_id, "return", opinion="กรุณาแนบรายงานผล").status_code == 302

    officer = as_user("officer")
    page = officer.text(f"/memos/{memo_id}")
    assert 'data-state="returned"' in page and "รอบก่อนหน้า" in page and "กรุณาแนบรายงานผล" in page
    assert action_buttons(page) == ["submit", "withdraw"] and "เสนอเรื่องอีกครั้ง" in page
    edit = officer.post(
        f"/memos/{memo_id}/edit",
        memo_form(version=str(app_office.memo(memo_id).version), proposal="ข้อเสนอใหม่"),
    )
    assert edit.status_code == 302
    assert officer.act(memo_id, "submit").status_code == 302
    memo = app_office.memo(memo_id)
    assert memo.state == "pending_head_of_office" and memo.round == 2
    assert memo.number == "พท 72001/1", "a resubmission keeps its number"
    again = head.text(f"/memos/{memo_id}")
    assert "รอบที่ 2" in again and "รอบที่ 1" in again
    assert action_buttons(again) == ["endorse", "return"]


def test_sign_needs_a_decision(as_user: Any, app_office: Office) -> None:
    memo_id = app_office.submitted()
    app_office.act("head", "endorse", memo_id, opinion="เห็นควรทราบ")
    app_office.act("palad", "endorse", memo_id, opinion="เห็นควรทราบ")
    response = as_user("mayor").act(memo_id, "sign", opinion="ทราบ")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="decision-error"' in html and ">ทราบ</textarea>" in html


def test_reject_and_withdraw(as_user: Any, app_office: Office) -> None:
    memo_id = app_office.submitted()
    app_office.act("head", "endorse", memo_id, opinion="เห็นควรทราบ")
    app_office.act("palad", "endorse", memo_id, opinion="เห็นควรทราบ")
    mayor = as_user("mayor")
    assert mayor.act(memo_id, "reject", opinion="").status_code == 422
    assert mayor.act(memo_id, "reject", opinion="ไม่อนุมัติ งบประมาณไม่เพียงพอ").status_code == 302
    html = mayor.text(f"/memos/{memo_id}")
    assert 'data-state="rejected"' in html and "cont-rejected" in html

    other = app_office.submitted()
    officer = as_user("officer")
    page = officer.text(f"/memos/{other}")
    assert re.search(r'value="withdraw"[^>]*data-confirm="', page)
    assert officer.act(other, "withdraw").status_code == 302
    assert app_office.memo(other).state == "withdrawn"
    assert "ถอนเรื่องแล้ว" in officer.text(f"/memos/{other}")


def test_someone_not_at_the_current_step_sees_no_button_and_is_refused(
    as_user: Any, app_office: Office
) -> None:
    memo_id = app_office.submitted()
    palad = as_user("palad")
    assert action_buttons(palad.text(f"/memos/{memo_id}")) == []
    forged = palad.act(memo_id, "endorse", opinion="ข้ามขั้น")
    assert forged.status_code == 403
    html = forged.get_data(as_text=True)
    assert "ผู้มีสิทธิ์ดำเนินการ: หัวหน้าสำนักปลัด" in html
    assert as_user("officer").act(memo_id, "endorse", opinion="ของตัวเอง").status_code == 403
    head_withdraw = as_user("head").act(memo_id, "withdraw")
    assert head_withdraw.status_code == 403
    assert SEED_MEMO["author"]["name"] in head_withdraw.get_data(as_text=True)
    assert as_user("officer").act(memo_id, "fly").status_code == 422
    assert app_office.memo(memo_id).state == "pending_head_of_office"


def test_an_admin_cannot_decide(as_user: Any, app_office: Office) -> None:
    memo_id = app_office.submitted()
    app_office.act("head", "endorse", memo_id, opinion="เห็นควรทราบ")
    app_office.act("palad", "endorse", memo_id, opinion="เห็นควรทราบ")
    admin = as_user("admin")
    page = admin.text(f"/memos/{memo_id}")
    assert action_buttons(page) == []
    assert admin.act(memo_id, "sign", decision="approved").status_code == 403
    assert app_office.memo(memo_id).state == "pending_mayor"


def test_a_second_decision_is_a_conflict(as_user: Any, app_office: Office) -> None:
    memo_id = app_office.submitted()
    head = as_user("head")
    version = app_office.memo(memo_id).version
    first = head.post(
        f"/memos/{memo_id}", {"action": "endorse", "opinion": "ก", "version": version}
    )
    assert first.status_code == 302
    stale = head.post(
        f"/memos/{memo_id}", {"action": "endorse", "opinion": "ก", "version": version}
    )
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert 'data-state="pending_permanent_secretary"' in html
    assert "รอปลัดองค์การบริหารส่วนตำบลควนขนุนพิจารณา" in html
    versionless = head.post(f"/memos/{memo_id}", {"action": "endorse", "opinion": "ก"})
    assert versionless.status_code == 409
    assert len(app_office.memo(memo_id).opinions) == 1


def test_a_conflict_page_shows_back_the_opinion_that_was_not_saved(
    as_user: Any, app_office: Office
) -> None:
    """Two people of the head's role open the memo; the first decides. The second's long
    opinion is not lost: the conflict page gives it back, escaped, to be copied."""
    memo_id = app_office.submitted()
    version = app_office.memo(memo_id).version
    first = as_user("head")
    second = as_user("head")
    assert (
        first.post(
            f"/memos/{memo_id}", {"action": "endorse", "opinion": "ก", "version": version}
        ).status_code
        == 302
    )
    written = "เห็นควรเสนอ <b>ด่วน</b>\nตามระเบียบฯ ข้อ 5"
    stale = second.post(
        f"/memos/{memo_id}", {"action": "endorse", "opinion": written, "version": version}
    )
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "ยังไม่ได้บันทึก" in html
    assert "เห็นควรเสนอ &lt;b&gt;ด่วน&lt;/b&gt;\nตามระเบียบฯ ข้อ 5</textarea>" in html
    assert [o.text for o in app_office.memo(memo_id).opinions] == ["ก"]
    # A page that was not a form carries nothing back.
    assert "typed-back" not in second.get(f"/memos/{memo_id}/edit").get_data(as_text=True)


def test_the_action_address_and_get_never_act(as_user: Any, app_office: Office) -> None:
    memo_id = app_office.submitted()
    head = as_user("head")
    assert head.get(f"/memos/{memo_id}/action").status_code == 405
    assert head.get(f"/memos/{memo_id}?action=endorse&opinion=x").status_code == 200
    assert app_office.memo(memo_id).state == "pending_head_of_office"
    response = head.post(
        f"/memos/{memo_id}/action",
        {"action": "endorse", "opinion": "ผ่าน", "version": app_office.memo(memo_id).version},
    )
    assert response.status_code == 302
    assert app_office.memo(memo_id).state == "pending_permanent_secretary"


def test_unknown_or_hidden_memo_is_404_in_the_site_layout(as_user: Any, app_office: Office) -> None:
    draft = app_office.create()
    head = as_user("head")
    for path in ("/memos/999", f"/memos/{draft}"):
        response = head.get(path)
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert "ไม่พบ" in html and 'class="topbar"' in html


def test_a_secret_memo_is_hidden_from_the_admin(as_user: Any, app_office: Office) -> None:
    secret = app_office.submitted(secrecy="secret")
    admin = as_user("admin")
    assert f'/memos/{secret}"' not in admin.text("/memos")
    assert admin.get(f"/memos/{secret}").status_code == 404
    html = as_user("head").text(f"/memos/{secret}")
    assert "ลับมาก" in html


def test_thai_digits_when_the_organisation_chose_them(as_user: Any, app_office: Office) -> None:
    from models import Organisation

    app_office.run(
        lambda s: setattr(s.get(Organisation, app_office.organisation_id), "thai_digits", True)
    )
    memo_id = app_office.submitted()
    html = as_user("officer").text(f"/memos/{memo_id}")
    assert "พท ๗๒๐๐๑/๑" in html
    date_text = re.search(r'id="memo-date">([^<]+)<', html)
    assert date_text and re.fullmatch(r"[๐-๙]+ \S+ [๐-๙]{4}", date_text.group(1))
    assert SEED_MEMO["background"][:40] in html, "typed text keeps its digits"


def test_memo_page_in_english(as_user: Any, app_office: Office) -> None:
    memo_id = app_office.submitted()
    html = as_user("head").text(f"/memos/{memo_id}?lang=en")
    assert "Memorandum" in html and "Give opinion and pass on" in html
    assert "Awaiting หัวหน้าสำนักปลัด" in html


@pytest.mark.parametrize("username", ["officer", "head", "admin"])
def test_pages_have_no_inline_script_or_style(
    as_user: Any, app_office: Office, username: str
) -> None:
    memo_id = app_office.submitted()
    web = as_user(username)
    paths = ["/memos", f"/memos/{memo_id}", "/memos/999"]
    paths += (
        ["/admin/users", "/admin/route", "/admin/organisation"]
        if username == "admin"
        else ["/", "/memos/mine", "/memos/new"]
    )
    for path in paths:
        html = web.get(path).get_data(as_text=True)
        assert " style=" not in html and "<style" not in html, path
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], path
        assert "onclick" not in html and "javascript:" not in html, path
