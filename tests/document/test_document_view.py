"""What the document says, checked on the HTML and the view model (no Chromium needed):
escaping, watermark, Thai digits, blocks per route step, acting lines, rounds, and the
clear errors when a part of the PDF engine is missing."""

from __future__ import annotations

import re
import sys
from datetime import datetime

import pytest
from memo_scenarios import BANGKOK, SEED_TIMES, VERIFY_URL, Office, RenderHtml

from models import Capacity
from webapp.document import ChromiumEngine, DocumentEngineUnavailable, data_url
from webapp.document import fonts as document_fonts
from webapp.document.renderer import css_string
from webapp.document.view import MemoDocument, build_document

LATER = datetime(2022, 4, 25, 10, 0, tzinfo=BANGKOK)


def document_of(office: Office, memo_id: int, **options: object) -> MemoDocument:
    with office.memo(memo_id) as (session, memo):
        return build_document(session, memo, verify_url=VERIFY_URL, **options)  # type: ignore[arg-type]


def test_typed_text_is_escaped_everywhere(seed_office: Office, render_html: RenderHtml) -> None:
    hostile = '<script>alert("x")</script> & </style><img src=x onerror=alert(1)>'
    memo_id = seed_office.create(subject="เรื่อง " + hostile, facts=hostile, proposal=hostile)
    html = render_html(memo_id, verify_url='https://v.example/"};</style><script>x()</script>')
    assert "<script>" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    # The URL reaches the page footer only as a CSS string with every risky character
    # escaped; there is exactly one </style> (the real one).
    assert html.count("</style>") == 1


def test_css_string_escapes_everything_that_could_end_it() -> None:
    escaped = str(css_string("a\"b'c\\d</style>{x}\nสวัสดี"))
    assert not set(escaped) & set("\"'<>{}\n")
    assert "สวัสดี" in escaped
    assert "\\000022" in escaped  # the double quote, as a six-digit CSS escape


def test_seed_memo_fields_and_blocks(seed_office: Office) -> None:
    document = document_of(seed_office, seed_office.seed_memo())
    assert document.number == "พท 72001/1"
    assert document.date == "20 เมษายน 2565"
    assert [part.heading for part in document.body] == [
        "1. เรื่องเดิม",
        "2. ข้อเท็จจริง",
        "3. ข้อเสนอ/ข้อพิจารณา",
    ]
    assert document.enclosures == ("ita-measures-2565.csv",)
    assert document.author.name == "นางสาวภรณ์พรรณ บุญเผือก"
    assert document.author.signed_at == "20 เมษายน 2565 เวลา 09:05 น."
    assert [(s.label, s.signature.name, s.signature.position_lines) for s in document.steps] == [
        ("ความเห็นหัวหน้าสำนักปลัด", "นางสาวสุพัตรา ชูกลิ่น", ("หัวหน้าสำนักปลัด",)),
        (
            "ความเห็นปลัดองค์การบริหารส่วนตำบลควนขนุน",
            "นายเศรษฐา ชูดำ",
            ("ปลัดองค์การบริหารส่วนตำบลควนขนุน",),
        ),
        ("", "นายวินัย มูสิกะเจริญ", ("นายกองค์การบริหารส่วนตำบลควนขนุน",)),
    ]
    final = document.steps[-1]
    assert final.final and final.decision == "ทราบ"
    assert final.signature.date == "22 เมษายน 2565"
    assert document.watermark is None
    assert [row.action for row in document.audit] == [
        "สร้างร่างบันทึกข้อความ",
        "แนบไฟล์",
        "ลงนามและเสนอเรื่อง",
        "ลงความเห็นและเสนอต่อ",
        "ลงความเห็นและเสนอต่อ",
        "ลงนาม",
    ]
    assert all(row.verified and re.fullmatch(r"[0-9a-f]{64}", row.hash) for row in document.audit)


def test_steps_not_yet_reached_are_empty_blocks(seed_office: Office) -> None:
    document = document_of(seed_office, seed_office.seed_memo(through="head"))
    reached = [(step.key, step.reached) for step in document.steps]
    assert reached == [("head_of_office", True), ("permanent_secretary", False), ("mayor", False)]
    waiting = document.steps[1]
    assert waiting.signature.name is None
    assert waiting.signature.position_lines == ("ปลัดองค์การบริหารส่วนตำบลควนขนุน",)
    assert waiting.opinion == "" and waiting.signature.date is None


@pytest.mark.parametrize(
    ("through", "forced", "expected"),
    [
        ("draft", None, "ร่าง"),
        ("draft", False, None),
        ("submit", None, None),
        ("mayor", None, None),
        ("mayor", True, "ร่าง"),
    ],
)
def test_draft_watermark(
    seed_office: Office,
    render_html: RenderHtml,
    through: str,
    forced: bool | None,
    expected: str | None,
) -> None:
    memo_id = seed_office.seed_memo(through=through)
    document = document_of(seed_office, memo_id, draft_watermark=forced)
    assert document.watermark == expected
    html = render_html(memo_id, draft_watermark=forced)
    assert ('<div class="watermark" aria-hidden="true">ร่าง</div>' in html) == (expected == "ร่าง")


def test_unsigned_draft_has_no_number_date_or_author_signature(seed_office: Office) -> None:
    document = document_of(seed_office, seed_office.seed_memo(through="draft"))
    assert document.number is None and document.date is None
    assert document.author.signed_at is None
    assert not any(step.reached for step in document.steps)


def test_withdrawn_memo_is_marked_cancelled(seed_office: Office) -> None:
    memo_id = seed_office.seed_memo(through="submit")
    seed_office.withdraw(memo_id, LATER)
    assert document_of(seed_office, memo_id).watermark == "ยกเลิก"


def test_thai_digits_for_the_documents_own_numbers_only(
    seed_office: Office, render_html: RenderHtml
) -> None:
    memo_id = seed_office.seed_memo()
    seed_office.set_thai_digits(True)
    document = document_of(seed_office, memo_id)
    assert document.number == "พท ๗๒๐๐๑/๑"
    assert document.date == "๒๐ เมษายน ๒๕๖๕"
    assert document.body[0].heading == "๑. เรื่องเดิม"
    assert document.steps[0].signature.date == "๒๐ เมษายน ๒๕๖๕"
    assert document.author.signed_at == "๒๐ เมษายน ๒๕๖๕ เวลา ๐๙:๐๕ น."
    # What people typed is printed as typed.
    assert document.subject.endswith("พ.ศ. 2564")
    assert "ที่ พท 72001/101 ลงวันที่ 9 กุมภาพันธ์ 2565" in document.body[0].paragraphs[0]
    html = render_html(memo_id)
    assert "counter(page, thai)" in html and "counter(page, decimal)" not in html


def test_arabic_digits_by_default(seed_office: Office, render_html: RenderHtml) -> None:
    memo_id = seed_office.seed_memo()
    html = render_html(memo_id)
    assert "counter(page, decimal)" in html
    assert not re.search("[๐-๙]", html)


def test_acting_for_the_final_signer(seed_office: Office) -> None:
    seed_office.authorise("palad", "mayor", Capacity.on_behalf.value, "12/2565")
    memo_id = seed_office.seed_memo(through="palad")
    seed_office.sign(memo_id, "approved", username="palad")
    final = document_of(seed_office, memo_id).steps[-1]
    assert final.decision == "อนุมัติ"
    assert final.signature.name == "นายเศรษฐา ชูดำ"
    assert final.signature.position_lines == (
        "ปลัดองค์การบริหารส่วนตำบลควนขนุน ปฏิบัติราชการแทน",
        "นายกองค์การบริหารส่วนตำบลควนขนุน",
    )


def test_acting_in_position_of_an_absent_head(seed_office: Office) -> None:
    seed_office.add_person("deputy", "นายสมชาย ใจดี", "นักจัดการงานทั่วไปชำนาญการ")
    seed_office.authorise("deputy", "head_of_office", Capacity.acting_in_position.value, "5/2565")
    memo_id = seed_office.seed_memo(through="submit")
    seed_office.endorse(memo_id, "deputy", "เห็นควรทราบ", SEED_TIMES["head"])
    head = document_of(seed_office, memo_id).steps[0]
    assert head.reached and head.signature.name == "นายสมชาย ใจดี"
    assert head.signature.position_lines == (
        "นักจัดการงานทั่วไปชำนาญการ รักษาการในตำแหน่ง",
        "หัวหน้าสำนักปลัด",
    )


def test_rejection_prints_the_refusal_and_reason(seed_office: Office) -> None:
    memo_id = seed_office.seed_memo(through="palad")
    seed_office.reject(memo_id, "ให้ทบทวนข้อมูลก่อนเผยแพร่")
    final = document_of(seed_office, memo_id).steps[-1]
    assert final.decision == "ไม่อนุมัติ"
    assert final.opinion == "ให้ทบทวนข้อมูลก่อนเผยแพร่"


def test_earlier_rounds_become_history(seed_office: Office) -> None:
    memo_id = seed_office.seed_memo(through="head")
    seed_office.return_memo(memo_id, "palad", "แก้ไขข้อเท็จจริงให้ครบถ้วน", SEED_TIMES["palad"])
    returned = document_of(seed_office, memo_id)
    assert returned.watermark == "ร่าง"
    assert returned.author.signed_at is None
    assert not any(step.reached for step in returned.steps)
    assert [(h.round, h.step_label, h.action, h.name) for h in returned.history] == [
        ("1", "ความเห็นหัวหน้าสำนักปลัด", "ลงความเห็นและเสนอต่อ", "นางสาวสุพัตรา ชูกลิ่น"),
        (
            "1",
            "ความเห็นปลัดองค์การบริหารส่วนตำบลควนขนุน",
            "ส่งคืนแก้ไข",
            "นายเศรษฐา ชูดำ",
        ),
    ]
    seed_office.submit(memo_id, LATER)
    resubmitted = document_of(seed_office, memo_id)
    assert resubmitted.watermark is None
    assert resubmitted.author.signed_at == "25 เมษายน 2565 เวลา 10:00 น."
    assert len(resubmitted.history) == 2


def test_emblem_must_be_an_inline_image(seed_office: Office, render_html: RenderHtml) -> None:
    memo_id = seed_office.create()
    with pytest.raises(ValueError, match="data:image"):
        render_html(memo_id, emblem_data_url="https://example.org/garuda.png")
    emblem = data_url(b"\x89PNG fake", "image/png")
    assert f'<img src="{emblem}" alt="ตราครุฑ">' in render_html(memo_id, emblem_data_url=emblem)
    with pytest.raises(ValueError):
        data_url(b"<svg/>", "text/html")


def test_missing_chromium_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMOFLOW_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(DocumentEngineUnavailable, match="apt-get install chromium"):
        ChromiumEngine().render_pdf("<p>x</p>")


def test_missing_playwright_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)
    with pytest.raises(DocumentEngineUnavailable, match="pip install playwright"):
        ChromiumEngine(executable="/bin/true").render_pdf("<p>x</p>")


def test_missing_font_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fontpkg_sarabun", None)
    with pytest.raises(DocumentEngineUnavailable, match="pip install fontpkg-sarabun"):
        document_fonts.font_directory()
