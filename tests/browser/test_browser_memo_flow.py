"""The used-by scenarios in a real Chromium against a live server: the seed memo from the
officer's draft to the mayor's ทราบ, a return-and-resubmit round, and refusals."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, Person
from tests.conftest import SEED_CSV, SEED_MEMO, seed_memo_fields
from workflow import actions
from workflow.accounts import find_user

pytestmark = pytest.mark.browser

MEMO_FIELDS = ("unit", "to", "subject", "background", "facts", "proposal")
People = Callable[[str], Person]


def memo_id_of(page: Any) -> int:
    match = re.search(r"/memos/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


def flash(page: Any) -> str:
    return str(page.locator(".flashes").inner_text())


def open_from_inbox(
    person: Person, subject: str, shoot: Callable[[Any, str], None] | None = None
) -> None:
    page = person.page
    page.goto("/")
    assert page.locator("#inbox-count").inner_text() == "1"
    if shoot is not None:
        shoot(page, f"inbox-{person.username}")
    page.click(f".memo-link:has-text('{subject[:40]}')")
    page.wait_for_url(re.compile(r"/memos/\d+$"))


def submitted_memo(server: LiveServer, **fields: str) -> int:
    """A memo the officer drafted and submitted (set up directly, not through the UI)."""

    def work(session: Any) -> int:
        officer = find_user(session, "officer")
        assert officer is not None
        memo = actions.create_memo(session, officer, **(seed_memo_fields() | fields))
        actions.submit(session, memo.id, officer)
        return memo.id

    return int(server.run(work))


def test_seed_memo_from_draft_to_signed(
    people: People, live_server: LiveServer, shoot: Callable[[Any, str], None]
) -> None:
    subject = SEED_MEMO["subject"]
    officer = people("officer")
    officer.page.goto("/login")
    shoot(officer.page, "login")
    officer.login()
    page = officer.page
    shoot(page, "inbox-empty")

    page.click("nav a:has-text('เขียนบันทึกข้อความ')")
    page.wait_for_url("**/memos/new")
    assert page.input_value("[name=to]") == "นายกองค์การบริหารส่วนตำบลควนขนุน"
    assert page.input_value("[name=unit]") == SEED_MEMO["unit"]
    shoot(page, "memo-new")
    for name in MEMO_FIELDS:
        page.fill(f"[name={name}]", SEED_MEMO[name])
    page.click("button:has-text('บันทึกร่าง')")
    page.wait_for_url(re.compile(r"/memos/\d+$"))
    memo_id = memo_id_of(page)
    assert "บันทึกร่างแล้ว" in flash(page)
    page.set_input_files("#f-file", str(SEED_CSV))
    page.click("button:has-text('อัปโหลด')")
    page.wait_for_url(re.compile(rf"/memos/{memo_id}$"))
    assert "แนบไฟล์ ita-measures-2565.csv แล้ว" in flash(page)
    # A file attached by mistake comes off again; the browser asks first.
    wrong = {"name": "ผิดฉบับ.csv", "mimeType": "text/csv", "buffer": SEED_CSV.read_bytes()}
    page.set_input_files("#f-file", files=[wrong])
    page.click("button:has-text('อัปโหลด')")
    page.wait_for_url(re.compile(rf"/memos/{memo_id}$"))
    files = page.locator(".file-name")
    assert files.all_inner_texts() == ["ita-measures-2565.csv", "ผิดฉบับ.csv"]
    remove = page.get_by_role("button", name="นำออก ผิดฉบับ.csv", exact=True)
    page.once("dialog", lambda dialog: dialog.dismiss())
    remove.click()
    assert files.all_inner_texts() == ["ita-measures-2565.csv", "ผิดฉบับ.csv"]
    questions_asked: list[str] = []
    page.once("dialog", lambda dialog: (questions_asked.append(dialog.message), dialog.accept()))
    remove.click()
    page.wait_for_load_state()
    assert questions_asked == ["นำไฟล์ ผิดฉบับ.csv ออกจากบันทึกข้อความหรือไม่?"]
    assert "นำไฟล์ ผิดฉบับ.csv ออกแล้ว" in flash(page)
    assert files.all_inner_texts() == ["ita-measures-2565.csv"]
    shoot(page, "memo-draft")
    page.click("button[name=action][value=submit]")
    page.wait_for_load_state()
    assert "เสนอเรื่องแล้ว ที่ พท 72001/1" in flash(page)
    assert page.locator("#memo-number").inner_text() == "พท 72001/1"
    assert page.locator(".cont-empty").count() == 3
    shoot(page, "memo-submitted")
    officer.logout()

    for username, opinion in (("head", "เห็นควรทราบและเผยแพร่"), ("palad", "เห็นควรทราบ")):
        reviewer = people(username).login()
        open_from_inbox(reviewer, subject, shoot if username == "head" else None)
        if username == "head":
            shoot(reviewer.page, "memo-for-head")
        reviewer.page.fill("[name=opinion]", opinion)
        reviewer.page.click("button[name=action][value=endorse]")
        reviewer.page.wait_for_load_state()
        assert "บันทึกความเห็นแล้ว" in flash(reviewer.page)
        assert reviewer.page.locator("button[name=action]").count() == 0
        reviewer.logout()

    mayor = people("mayor").login()
    open_from_inbox(mayor, subject)
    page = mayor.page
    assert [b.get_attribute("value") for b in page.locator("button[name=action]").all()] == [
        "sign",
        "reject",
        "return",
    ]
    page.check("input[name=decision][value=acknowledged]")
    shoot(page, "memo-for-mayor")
    questions: list[str] = []

    def accept(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    # A double click: the confirmation is asked once and the memo is signed once.
    page.dblclick("button[name=action][value=sign]")
    page.wait_for_url(re.compile(rf"/memos/{memo_id}$"))
    page.wait_for_load_state()
    assert len(questions) == 1 and "ลงนาม" in questions[0]
    assert "ลงนามแล้ว: ทราบ" in flash(page)
    mayor.logout()

    officer.login()
    page = officer.page
    page.click("nav a:has-text('เรื่องของฉัน')")
    assert "ลงนามแล้ว" in page.locator(".memo-item").first.inner_text()
    shoot(page, "my-memos")
    page.click(f".memo-link:has-text('{subject[:40]}')")
    assert page.locator("#memo-state").get_attribute("data-state") == "signed"
    blocks = page.locator(".cont-block")
    assert blocks.count() == 3
    for index, step in enumerate(SEED_MEMO["route"]):
        text = blocks.nth(index).inner_text()
        assert f"({step['name']})" in text and step["position"] in text
    assert "ทราบ" in blocks.nth(2).inner_text()
    assert page.locator("#timeline-verdict.verify-ok").is_visible()
    verified = page.locator(".tl-item[data-verified=yes]")
    assert [item.get_attribute("data-action") for item in verified.all()] == [
        "create",
        "attach",
        "attach",
        "detach",
        "submit",
        "endorse",
        "endorse",
        "sign",
    ]
    assert page.locator(".tl-item[data-verified=no]").count() == 0
    shoot(page, "memo-signed")
    with page.expect_download() as download:
        page.click(".file-link")
    assert download.value.suggested_filename == "ita-measures-2565.csv"
    assert Path(download.value.path()).read_bytes() == SEED_CSV.read_bytes()
    page.click("nav a:has-text('เรื่องทั้งหมด')")
    page.fill("[name=q]", "คุณธรรม")
    page.select_option("[name=state]", "signed")
    page.click("button:has-text('ค้นหา')")
    page.wait_for_url(re.compile(r"[?&]q="))  # count() would not wait for the results
    assert page.locator(".memo-item").count() == 1
    shoot(page, "all-memos-search")


def test_downloads_are_saved_under_their_thai_names(
    people: People, live_server: LiveServer, tmp_path: Path
) -> None:
    """Chromium saves the official document as พท72001-1.pdf and an attachment under its
    Thai name: what gunicorn sent crossed the wire (a non-Latin-1 header was a 500)."""
    contents = SEED_CSV.read_bytes()

    def work(session: Any) -> int:
        officer = find_user(session, "officer")
        assert officer is not None
        memo = actions.create_memo(session, officer, **seed_memo_fields())
        actions.add_attachment(session, memo.id, officer, "สรุปผล ITA.csv", contents)
        actions.submit(session, memo.id, officer)
        return memo.id

    memo_id = int(live_server.run(work))
    page = people("officer").login().page
    page.goto(f"/memos/{memo_id}")
    assert page.locator("#memo-number").inner_text() == "พท 72001/1"
    with page.expect_download() as pdf:
        page.click("#pdf-link")
    assert pdf.value.failure() is None
    assert pdf.value.suggested_filename == "พท72001-1.pdf"
    saved = tmp_path / pdf.value.suggested_filename
    pdf.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    with page.expect_download() as attachment:
        page.click(".file-link:has-text('สรุปผล ITA.csv')")
    assert attachment.value.suggested_filename == "สรุปผล ITA.csv"
    assert Path(attachment.value.path()).read_bytes() == contents


def test_return_and_resubmit(
    people: People, live_server: LiveServer, shoot: Callable[[Any, str], None]
) -> None:
    memo_id = submitted_memo(live_server)
    head = people("head").login()
    open_from_inbox(head, SEED_MEMO["subject"])
    head.page.fill("[name=opinion]", "กรุณาแนบรายงานผลการดำเนินการ")
    head.page.click("button[name=action][value=return]")
    head.page.wait_for_load_state()
    assert "ส่งคืนเจ้าของเรื่องเพื่อแก้ไขแล้ว" in flash(head.page)

    officer = people("officer").login()
    page = officer.page
    page.goto(f"/memos/{memo_id}")
    assert page.locator("#memo-state").get_attribute("data-state") == "returned"
    assert "กรุณาแนบรายงานผลการดำเนินการ" in page.locator(".history").inner_text()
    shoot(page, "memo-returned")
    page.click("#edit-link")
    page.wait_for_url(f"**/memos/{memo_id}/edit")
    shoot(page, "memo-edit")
    page.fill("[name=proposal]", "จึงเรียนมาเพื่อโปรดทราบ พร้อมแนบรายงานผล")
    page.click("button:has-text('บันทึก')")
    page.wait_for_url(re.compile(rf"/memos/{memo_id}$"))
    assert "บันทึกแล้ว" in flash(page)
    page.click("button[name=action][value=submit]")
    page.wait_for_load_state()
    assert "เสนอเรื่องแล้ว ที่ พท 72001/1" in flash(page)

    open_from_inbox(head, SEED_MEMO["subject"])
    assert "รอบที่ 1" in head.page.locator(".history").inner_text()
    assert "พร้อมแนบรายงานผล" in head.page.locator("#memo-proposal").inner_text()
    shoot(head.page, "memo-resubmitted")


def test_not_the_current_step_sees_no_button_and_a_forged_post_is_refused(
    people: People, live_server: LiveServer, shoot: Callable[[Any, str], None]
) -> None:
    memo_id = submitted_memo(live_server)
    palad = people("palad").login()
    page = palad.page
    page.goto(f"/memos/{memo_id}")
    assert page.locator("button[name=action]").count() == 0
    assert page.locator("#no-actions").is_visible()
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    version = live_server.run(lambda s: actions.get_memo(s, memo_id, find_user(s, "palad")).version)
    forged = page.request.post(
        f"/memos/{memo_id}",
        form={
            "action": "endorse",
            "opinion": "ข้ามขั้น",
            "version": str(version),
            "csrf_token": token or "",
        },
        max_redirects=0,
    )
    assert forged.status == 403
    assert "หัวหน้าสำนักปลัด" in forged.text()
    no_token = page.request.post(
        f"/memos/{memo_id}", form={"action": "endorse", "opinion": "x"}, max_redirects=0
    )
    assert no_token.status == 400
    state = live_server.run(lambda s: actions.get_memo(s, memo_id, find_user(s, "palad")).state)
    assert state == "pending_head_of_office"
    page.set_content(forged.text())  # how the refusal looks
    page.goto(f"/memos/{memo_id}")
    shoot(page, "memo-no-action")


def test_cancelled_confirmation_does_nothing_and_stale_page_gets_409(
    people: People, live_server: LiveServer, shoot: Callable[[Any, str], None]
) -> None:
    memo_id = submitted_memo(live_server)
    officer = people("officer").login()
    page = officer.page
    page.goto(f"/memos/{memo_id}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("button[name=action][value=withdraw]")
    assert page.url.endswith(f"/memos/{memo_id}")
    assert page.locator("#memo-state").get_attribute("data-state") == "pending_head_of_office"

    head = people("head").login()
    head.page.goto(f"/memos/{memo_id}")
    # Meanwhile the author withdraws it: the head's page is now stale.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[name=action][value=withdraw]")
    page.wait_for_load_state()
    assert page.locator("#memo-state").get_attribute("data-state") == "withdrawn"
    head.page.fill("[name=opinion]", "เห็นควรทราบ")
    head.page.click("button[name=action][value=endorse]")
    head.page.wait_for_load_state()
    assert "เรื่องนี้มีการเปลี่ยนแปลง" in head.page.content()
    assert head.page.locator("#new-state [data-state]").get_attribute("data-state") == "withdrawn"
    shoot(head.page, "error-409")


def test_admin_and_error_screens(
    people: People, live_server: LiveServer, shoot: Callable[[Any, str], None]
) -> None:
    memo_id = submitted_memo(live_server, urgency="most_urgent", secrecy="normal")
    admin = people("admin").login()
    page = admin.page
    shoot(page, "admin-users")
    page.click(".user-item a:has-text('นางสาวสุพัตรา ชูกลิ่น')")
    page.fill("[name=label]", "รายงานประจำเดือน")
    page.click("button:has-text('สร้างโทเค็น')")
    assert page.locator("#new-token").inner_text()
    shoot(page, "admin-user")
    page.click(".subnav a:has-text('เส้นทางเสนอเรื่อง')")
    shoot(page, "admin-route")
    page.click(".subnav a:has-text('หน่วยงาน')")
    shoot(page, "admin-organisation")
    # The token just issued is in the organisation's audit log, checked.
    page.click(".subnav a:has-text('บันทึกการตรวจสอบ')")
    # count() does not wait: the click's navigation must have ended first.
    page.wait_for_url("**/admin/audit")
    assert page.locator("#audit-table tr[data-action=token_create]").count() == 1
    assert page.locator("#audit-outcome").get_attribute("data-outcome") == "ok"
    shoot(page, "admin-audit")
    page.goto(f"/memos/{memo_id}")
    assert page.locator("button[name=action]").count() == 0
    shoot(page, "memo-as-admin")
    page.goto("/memos/new")
    assert "ไม่มีสิทธิ์" in page.content()
    shoot(page, "error-403")
    page.goto("/memos/9999")
    shoot(page, "error-404")
    page.goto("/memos?lang=en")
    assert page.locator("h1").inner_text() == "All memos"
    shoot(page, "all-memos-english")
