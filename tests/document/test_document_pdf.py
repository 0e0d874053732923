"""The PDF itself, read back with poppler and pypdf: every field in the seed's order, the
exact Thai text layer, line breaks between words, dates, digits, acting lines, A4, the
footer and QR code on every page, the audit trail, stamps, watermark and page layout.

Needs Chromium (apt-get install chromium), poppler-utils and pypdf; skips without them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from memo_scenarios import (
    HEAD_OPINION,
    LONG_PARAGRAPH,
    PALAD_OPINION,
    SEED_MEMO,
    VERIFY_URL,
    Office,
    RenderPdf,
)
from page_images import compare, read_gray, read_rgb, render_page
from thai_checks import (
    A4_POINTS,
    POINTS_PER_CM,
    Word,
    bad_line_breaks,
    body_text,
    page_words,
    paragraph_lines,
    pdftotext,
    squeeze,
)

from models import Capacity
from webapp.document import memo_document_html
from webapp.document.engine import default_engine
from workflow.audit import memo_timeline
from workflow.content import document_hash

pypdf = pytest.importorskip("pypdf", reason="pip install pypdf")

REFERENCE_DIR = Path(__file__).parent / "reference"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "document"
LEFT_MARGIN = 3 * POINTS_PER_CM
RIGHT_EDGE = A4_POINTS[0] - 2 * POINTS_PER_CM
THAI_DIGIT = re.compile("[๐-๙]")


@dataclass
class Rendered:
    office: Office
    memo_id: int
    pdf: bytes
    tmp: Path

    @property
    def text(self) -> str:
        """The whole text layer, furniture included (plain pdftotext)."""
        return pdftotext(self.pdf, self.tmp)

    @property
    def body(self) -> str:
        """The text areas of all pages as laid out."""
        return body_text(self.pdf, self.tmp)


def render(office: Office, memo_id: int, tmp: Path, **options: object) -> Rendered:
    options.setdefault("verify_url", VERIFY_URL)
    with office.memo(memo_id) as (session, memo):
        from webapp.document import memo_document_pdf

        pdf = memo_document_pdf(session, memo, **options)  # type: ignore[arg-type]
    return Rendered(office, memo_id, pdf, tmp)


@pytest.fixture(scope="module")
def signed_seed(tmp_path_factory: pytest.TempPathFactory, chromium: str, poppler: None) -> Rendered:
    """The seed memo entered and signed through the workflow verbs, rendered once."""
    tmp = tmp_path_factory.mktemp("signed-seed")
    office = Office.in_sqlite(tmp / "seed.sqlite3")
    return render(office, office.seed_memo(), tmp)


def in_order(text: str, expected: list[str]) -> list[str]:
    """The expected pieces that are missing from ``text`` or out of order (whitespace is
    ignored on both sides)."""
    haystack = squeeze(text)
    position, problems = 0, []
    for piece in expected:
        found = haystack.find(squeeze(piece), position)
        if found < 0:
            where = "elsewhere" if squeeze(piece) in haystack else "nowhere"
            problems.append(f"{piece[:50]!r} not found after position {position} ({where})")
        else:
            position = found + len(squeeze(piece))
    return problems


def seed_document_order() -> list[str]:
    """Every field, label, name and position of the seed document, in the seed's order."""
    route = SEED_MEMO["route"]
    return [
        "บันทึกข้อความ",
        "ส่วนราชการ",
        SEED_MEMO["unit"],
        "ที่",
        "พท 72001/1",
        "วันที่",
        "20 เมษายน 2565",
        "เรื่อง",
        SEED_MEMO["subject"],
        "เรียน",
        SEED_MEMO["to"],
        "สิ่งที่ส่งมาด้วย",
        "1. ita-measures-2565.csv",
        "1. เรื่องเดิม",
        SEED_MEMO["background"],
        "2. ข้อเท็จจริง",
        SEED_MEMO["facts"],
        "3. ข้อเสนอ/ข้อพิจารณา",
        SEED_MEMO["proposal"],
        f"({SEED_MEMO['author']['name']})",
        SEED_MEMO["author"]["position"],
        route[0]["block_label"],
        HEAD_OPINION,
        "ลงชื่อ",
        f"({route[0]['name']})",
        route[0]["position"],
        route[1]["block_label"],
        PALAD_OPINION,
        "ลงชื่อ",
        f"({route[1]['name']})",
        route[1]["position"],
        "ทราบ",
        "ลงชื่อ",
        f"({route[2]['name']})",
        route[2]["position"],
    ]


# --- content and order ------------------------------------------------------------------


def test_seed_memo_prints_every_part_in_the_seeds_order(signed_seed: Rendered) -> None:
    assert in_order(signed_seed.body, seed_document_order()) == []


def test_text_layer_gives_back_every_field_exactly(signed_seed: Rendered) -> None:
    text = squeeze(signed_seed.text)
    fields = [SEED_MEMO[name] for name in ("unit", "subject", "to")]
    fields += [SEED_MEMO[name] for name in ("background", "facts", "proposal")]
    fields += [HEAD_OPINION, PALAD_OPINION, SEED_MEMO["author"]["name"]]
    fields += [step["name"] for step in SEED_MEMO["route"]]
    fields += [step["position"] for step in SEED_MEMO["route"]]
    # Whole fields, each line of a multi-line field included, in plain pdftotext output.
    for field in fields:
        for line in field.split("\n"):
            assert squeeze(line) in text, line
    # And each whole field, across its line and page breaks, in the text areas.
    body = squeeze(signed_seed.body)
    for field in fields:
        assert squeeze(field) in body, field[:60]


def test_long_unspaced_paragraph(
    seed_office: Office, render_pdf: RenderPdf, tmp_path: Path
) -> None:
    memo_id = seed_office.seed_memo(facts=LONG_PARAGRAPH)
    pdf = render_pdf(memo_id)
    assert squeeze(LONG_PARAGRAPH) in squeeze(pdftotext(pdf, tmp_path))
    lines = paragraph_lines(body_text(pdf, tmp_path).splitlines(), LONG_PARAGRAPH)
    assert len(lines) >= 8, "the paragraph should wrap over many lines"
    bad = bad_line_breaks(LONG_PARAGRAPH, lines)
    assert bad == [], "\n".join(map(str, bad))


def test_seed_paragraphs_break_between_words(signed_seed: Rendered) -> None:
    lines = signed_seed.body.splitlines()
    paragraphs = [
        p for name in ("background", "facts", "proposal") for p in SEED_MEMO[name].split("\n")
    ]
    checked = 0
    for paragraph in paragraphs:
        printed = paragraph_lines(lines, paragraph)
        bad = bad_line_breaks(paragraph, printed)
        assert bad == [], "\n".join(map(str, bad))
        checked += len(printed) - 1
    assert checked >= 10


def test_the_break_check_catches_a_word_cut_in_half() -> None:
    text = "ตามแบบตรวจการเปิดเผยข้อมูลสาธารณะ"
    assert bad_line_breaks(text, ["ตามแบบตรวจการเปิดเผยข้อมู", "ลสาธารณะ"]) != []
    assert bad_line_breaks(text, ["ตามแบบตรวจการเปิดเผย", "ข้อมูลสาธารณะ"]) == []
    # A compound split between its dictionary words counts as a boundary.
    assert bad_line_breaks("การส่งเสริมคุณธรรม", ["การส่ง", "เสริมคุณธรรม"]) == []


# --- dates, digits, acting -------------------------------------------------------------


def test_dates_are_buddhist_era_with_full_month_names(signed_seed: Rendered) -> None:
    text = squeeze(signed_seed.body)
    for expected in ("วันที่20เมษายน2565", "วันที่21เมษายน2565", "วันที่22เมษายน2565"):
        assert expected in text
    assert "ลงนามอิเล็กทรอนิกส์22เมษายน2565เวลา14:30น." in text
    assert "2022" not in text


def test_arabic_digits_by_default(signed_seed: Rendered) -> None:
    text = squeeze(signed_seed.text)
    assert "ที่พท72001/1" in text and "-2-" in text and "หน้า1/3" in text
    assert not THAI_DIGIT.search(text)


def test_thai_digits_when_the_organisation_chose_them(
    seed_office: Office, render_pdf: RenderPdf, tmp_path: Path
) -> None:
    memo_id = seed_office.seed_memo()
    seed_office.set_thai_digits(True)
    pdf = render_pdf(memo_id)
    body = squeeze(body_text(pdf, tmp_path))
    whole = squeeze(pdftotext(pdf, tmp_path))
    for own in ("ที่พท๗๒๐๐๑/๑", "วันที่๒๐เมษายน๒๕๖๕", "๑.เรื่องเดิม", "๓.ข้อเสนอ/ข้อพิจารณา"):
        assert own in body, own
    assert "-๒-" in whole and "หน้า๑/๓" in whole  # page numbers
    # Typed text keeps its Arabic digits.
    assert squeeze(SEED_MEMO["subject"]) in body  # "... พ.ศ. 2564"
    assert squeeze(SEED_MEMO["background"]) in body  # "... พท 72001/101 ... 2565 ..."
    assert "72001/1" not in body.replace("72001/101", "")


def test_acting_block_prints_capacity_and_position_acted_for(
    seed_office: Office, render_pdf: RenderPdf, tmp_path: Path
) -> None:
    seed_office.authorise("palad", "mayor", Capacity.on_behalf.value, "12/2565")
    memo_id = seed_office.seed_memo(through="palad")
    seed_office.sign(memo_id, "approved", username="palad")
    printed = body_text(render_pdf(memo_id), tmp_path).splitlines()
    lines = [" ".join(line.split()) for line in printed if line.strip()]
    at = lines.index("ปลัดองค์การบริหารส่วนตำบลควนขนุน ปฏิบัติราชการแทน")
    assert lines[at - 1] == "(นายเศรษฐา ชูดำ)"
    assert lines[at + 1] == "นายกองค์การบริหารส่วนตำบลควนขนุน"
    assert "อนุมัติ" in lines[at - 3 : at - 1], "the decision stands above the signature"


# --- the file ------------------------------------------------------------------------


def test_pdf_is_a4_and_opens_in_pypdf(signed_seed: Rendered) -> None:
    reader = pypdf.PdfReader(BytesIO(signed_seed.pdf))
    assert len(reader.pages) == 3  # two pages of memo, then the audit trail
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - A4_POINTS[0]) < 1 and abs(height - A4_POINTS[1]) < 1
    assert "บันทึกข้อความ" in reader.pages[0].extract_text()


def test_every_page_carries_hash_url_and_page_number(signed_seed: Rendered) -> None:
    with signed_seed.office.memo(signed_seed.memo_id) as (_session, memo):
        content_hash = document_hash(memo)
    for page in (1, 2, 3):
        text = squeeze(
            pdftotext(signed_seed.pdf, signed_seed.tmp, "-f", str(page), "-l", str(page))
        )
        assert content_hash in text
        assert VERIFY_URL in text
        assert f"หน้า{page}/3" in text


def test_final_page_is_the_audit_trail(signed_seed: Rendered) -> None:
    trail = squeeze(pdftotext(signed_seed.pdf, signed_seed.tmp, "-f", "3", "-l", "3"))
    assert "บันทึกการดำเนินการของเอกสาร" in trail
    with signed_seed.office.memo(signed_seed.memo_id) as (session, memo):
        events = memo_timeline(session, memo)
    assert len(events) == 6
    assert (
        in_order(
            trail,
            [part for check in events for part in (check.event.actor_name, check.event.hash)],
        )
        == []
    )
    assert "20เมษายน2565เวลา08:40น." in trail  # the creation, in Bangkok time


def test_qr_code_encodes_the_verification_url(signed_seed: Rendered) -> None:
    if shutil.which("zbarimg") is None:
        pytest.skip("zbarimg is not installed (apt-get install zbar-tools)")
    image = render_page(signed_seed.pdf, 2, signed_seed.tmp, dpi=200)
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, check=True, text=True
    )
    assert decoded.stdout.strip() == VERIFY_URL


# --- stamps and watermark ------------------------------------------------------------


def red_pixels(pixels: list[tuple[int, int, int]]) -> int:
    return sum(1 for r, g, b in pixels if r > 150 and g < 90 and b < 90)


def region(
    image: tuple[int, int, list[tuple[int, int, int]]], top: float, bottom: float
) -> list[tuple[int, int, int]]:
    """Pixels between two heights given as fractions of the page."""
    width, height, pixels = image
    return pixels[int(top * height) * width : int(bottom * height) * width]


def test_urgency_and_secrecy_stamps_are_red(
    seed_office: Office, render_pdf: RenderPdf, tmp_path: Path
) -> None:
    memo_id = seed_office.seed_memo(urgency="most_urgent", secrecy="secret")
    pdf = render_pdf(memo_id)
    text = squeeze(pdftotext(pdf, tmp_path))
    assert "ด่วนที่สุด" in text and "ลับมาก" in text
    first = read_rgb(render_page(pdf, 1, tmp_path, dpi=40, gray=False))
    assert red_pixels(region(first, 0, 0.15)) > 50  # above the heading
    second = read_rgb(render_page(pdf, 2, tmp_path, dpi=40, gray=False))
    assert red_pixels(region(second, 0.9, 1.0)) > 20  # secrecy at the foot of every page


def test_no_red_on_an_ordinary_memo(signed_seed: Rendered) -> None:
    first = read_rgb(render_page(signed_seed.pdf, 1, signed_seed.tmp, dpi=40, gray=False))
    assert red_pixels(first[2]) == 0


def test_draft_carries_a_visible_watermark(
    seed_office: Office, render_pdf: RenderPdf, tmp_path: Path
) -> None:
    pdf = render_pdf(seed_office.seed_memo(through="draft"))
    for page in (1, 2):
        image = read_rgb(render_page(pdf, page, tmp_path, dpi=40, gray=False))
        tinted = sum(1 for r, g, b in region(image, 0.2, 0.8) if r - g > 12 and r > 180)
        assert tinted > 500, f"page {page}: no watermark"
    reader = pypdf.PdfReader(BytesIO(pdf))
    assert "ร" in reader.pages[0].extract_text()


# --- layout --------------------------------------------------------------------------


def test_page_one_layout(signed_seed: Rendered) -> None:
    words = page_words(signed_seed.pdf, signed_seed.tmp, 1)

    def first(text: str) -> Word:
        return next(word for word in words if word.text == text)

    heading = first("บันทึกข้อความ")
    centre = (LEFT_MARGIN + RIGHT_EDGE) / 2
    assert abs(heading.x_centre - centre) < 3, "the heading is centred on the text area"
    labels = [first(label) for label in ("ส่วนราชการ", "ที่", "เรื่อง", "เรียน")]
    for label in labels:
        assert abs(label.x_min - LEFT_MARGIN) < 2, f"{label.text} starts at the 3 cm margin"
    tops = [heading.y_min] + [label.y_min for label in labels]
    assert tops == sorted(tops), "heading, ส่วนราชการ, ที่, เรื่อง, เรียน from top to bottom"
    date_label = first("วันที่")
    assert abs(date_label.y_min - labels[1].y_min) < 2 and date_label.x_min > centre - 40
    heading_height = heading.y_max - heading.y_min
    body_height = first("เรียน").y_max - first("เรียน").y_min
    assert 1.6 < heading_height / body_height < 2.2, "heading about 29 pt against 16 pt"
    # Paragraphs are indented 2.5 cm; nothing crosses the 3 cm / 2 cm margins.
    opening = first("ตามที่")
    assert abs(opening.x_min - (LEFT_MARGIN + 2.5 * POINTS_PER_CM)) < 2
    for page in (1, 2, 3):
        for word in page_words(signed_seed.pdf, signed_seed.tmp, page):
            assert word.x_min >= LEFT_MARGIN - 1 and word.x_max <= RIGHT_EDGE + 1, word


def test_page_one_matches_the_reviewed_reference(signed_seed: Rendered) -> None:
    """Page 1 of the signed seed memo against tests/document/reference/seed-page-1.png
    (50 dpi, grayscale), reviewed by eye when it was made. Regenerate after an intended
    change with MEMOFLOW_UPDATE_REFERENCE=1 and look at the new image before committing."""
    image = render_page(signed_seed.pdf, 1, signed_seed.tmp, dpi=50)
    reference = REFERENCE_DIR / "seed-page-1.png"
    if os.environ.get("MEMOFLOW_UPDATE_REFERENCE") == "1":
        REFERENCE_DIR.mkdir(exist_ok=True)
        shutil.copyfile(image, reference)
        pytest.skip(f"reference written to {reference}; review it before committing")
    difference = compare(read_gray(image), read_gray(reference))
    # Measured here: the same memo renders identically (0.00); Thai digits instead of
    # Arabic give a mean of 0.61, the draft watermark 0.38, four more words in the subject
    # 0.17 with 0.10 % of pixels changed. The bounds let antialiasing drift between
    # Chromium or poppler builds pass and catch any change of content or layout.
    if difference.mean > 0.12 or difference.changed > 0.0005:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, ARTIFACTS / "seed-page-1.actual.png")
        pytest.fail(f"page 1 differs from the reference: {difference} (see {ARTIFACTS})")


# --- the engine ------------------------------------------------------------------------


def test_one_browser_serves_many_threads(signed_seed: Rendered) -> None:
    with signed_seed.office.memo(signed_seed.memo_id) as (session, memo):
        html = memo_document_html(session, memo, verify_url=VERIFY_URL)
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(default_engine().render_pdf(html))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(results) == 4 and all(pdf.startswith(b"%PDF-") for pdf in results)
