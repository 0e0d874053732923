"""Render a memo as the official document: print-friendly HTML, and PDF through Chromium.

The public API (no Flask here; the web layer wraps it in thin views):

- ``memo_document_html(session, memo, verify_url=...)``: one self-contained HTML page
  (fonts and QR code inline, nothing fetched) that prints as the A4 document and shows as
  sheets of paper on screen;
- ``memo_document_pdf(session, memo, verify_url=...)``: the same page printed to PDF by
  headless Chromium (webapp.document.engine).

The typography follows the official typing guide, translated from TH Sarabun New to
Sarabun by measured glyph size (docs/pdf.md): 16 pt TH Sarabun New = 11 pt Sarabun.
"""

from __future__ import annotations

import base64
import re
import struct
import zlib
from datetime import datetime
from functools import cache
from importlib import resources

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from sqlalchemy.orm import Session

from models import Memo
from webapp.document.engine import ChromiumEngine, default_engine
from webapp.document.fonts import font_face_css
from webapp.document.view import MemoDocument, build_document
from workflow.thai import digits

TEMPLATES = resources.files("webapp.document") / "templates"

# Sarabun's vertical metrics (hhea ascender/descender per em), used to put the dotted
# rules of the form exactly under the typed text's baseline.
SARABUN_ASCENT = 1.068
SARABUN_DESCENT = 0.232
BODY_FONT_PT = 11.0  # = TH Sarabun New 16 pt (docs/pdf.md)
BODY_LINE_PT = 20.8  # TH Sarabun New's own line spacing at 16 pt (1.30 em)
FIELD_FONT_PT = 11.0
FIELD_LINE_PT = 24.0  # the header lines carry 20 pt (TH) bold labels
RULE_DOT_PITCH_PT = 2.4
RULE_DPI = 300
RULE_DOT_PX = 2
OPAQUE = b"\x00\x00\x00\xff"
CLEAR = b"\x00\x00\x00\x00"
QR_SIZE_MM = 15.0
EMBLEM_MEDIA_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/webp")

# Characters left as they are inside a CSS string; everything else is hex-escaped, so a
# value can never close the string, the rule or the <style> element.
_CSS_SAFE = re.compile(r"[A-Za-z0-9 .,:/_%=+;#@?!()\-\u0E00-\u0E7F]")


def css_string(value: object) -> Markup:
    """``value`` escaped for use inside a double-quoted CSS string."""
    return Markup(
        "".join(ch if _CSS_SAFE.fullmatch(ch) else f"\\{ord(ch):06x}" for ch in str(value))
    )


def data_url(data: bytes, media_type: str) -> str:
    """A ``data:`` URL for an image (e.g. an organisation's Garuda emblem)."""
    if media_type not in EMBLEM_MEDIA_TYPES:
        raise ValueError(f"unsupported image type {media_type}")
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _baseline(line_pt: float, font_pt: float) -> float:
    """Distance from the top of a line box to the baseline of text set in it."""
    content = (SARABUN_ASCENT + SARABUN_DESCENT) * font_pt
    return (line_pt - content) / 2 + SARABUN_ASCENT * font_pt


def _png(width: int, height: int, black: set[tuple[int, int]]) -> bytes:
    """A minimal RGBA PNG: the given pixels black, the rest transparent."""
    rows = b"".join(
        b"\x00" + b"".join(OPAQUE if (x, y) in black else CLEAR for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


@cache
def dotted_rule(line_pt: float, font_pt: float) -> str:
    """A background tile one dot wide and one line high, the dot just under the baseline;
    repeated, it draws the form's dotted lines under every line of typed text.

    A PNG at 300 dpi rather than SVG or CSS gradients: Chromium prints an SVG or gradient
    background two to three times slower (measured: 216 and 337 ms against 72 ms for the
    seed memo), and the dots are too small for the raster to show.
    """
    px_per_pt = RULE_DPI / 72
    width = round(RULE_DOT_PITCH_PT * px_per_pt)
    height = round(line_pt * px_per_pt)
    top = round((_baseline(line_pt, font_pt) + 0.16 * font_pt) * px_per_pt)
    dot = {(x, y) for x in range(RULE_DOT_PX) for y in range(top, top + RULE_DOT_PX)}
    png = _png(width, height, dot)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["css_string"] = css_string
    return environment


@cache
def _static_css() -> Markup:
    css = (TEMPLATES / "memo.css").read_text(encoding="utf-8")
    return Markup(css)


@cache
def _font_css() -> Markup:
    return Markup(font_face_css())


def _qr(verify_url: str) -> tuple[str, Markup]:
    """The verification URL as a QR code: a data URI (page footer) and inline SVG (screen)."""
    code = segno.make(verify_url, error="m")
    modules = code.symbol_size(scale=1, border=0)[0]
    uri = code.svg_data_uri(scale=QR_SIZE_MM / modules, border=0, unit="mm", xmldecl=False)
    # segno writes only the path data it computes from the URL's bits: no user markup.
    inline = Markup(code.svg_inline(scale=2, border=0, svgclass="qr-code", lineclass="qr-line"))
    return uri, inline


def render_document_html(document: MemoDocument) -> str:
    """The HTML for an already-built document (see build_document)."""
    qr_uri, qr_svg = _qr(document.verify_url)
    thai = document.thai_digits
    footer_lines = (
        f"เอกสารอิเล็กทรอนิกส์ {document.organisation}"
        + (f" ที่ {document.number}" if document.number else ""),
        f"ลายนิ้วมือเนื้อหา (SHA-256) {document.content_hash}",
        f"ตรวจสอบได้ที่ {document.verify_url}",
    )
    return (
        _environment()
        .get_template("memo.html")
        .render(
            doc=document,
            font_css=_font_css(),
            static_css=_static_css(),
            rules={
                "field": dotted_rule(FIELD_LINE_PT, FIELD_FONT_PT),
                "body": dotted_rule(BODY_LINE_PT, BODY_FONT_PT),
            },
            counter_style="thai" if thai else "decimal",
            footer_text="\n".join(footer_lines) + "\nหน้า ",
            footer_lines=footer_lines,
            qr_data_uri=qr_uri,
            qr_svg=qr_svg,
            enclosure_numbers=[
                digits(str(n), thai) for n in range(1, len(document.enclosures) + 1)
            ],
        )
    )


def memo_document_html(
    session: Session,
    memo: Memo,
    *,
    verify_url: str,
    draft_watermark: bool | None = None,
    emblem_data_url: str | None = None,
    now: datetime | None = None,
) -> str:
    """The memo as one self-contained, print-ready HTML page (A4 when printed).

    ``verify_url`` is printed, and encoded as a QR code, on every page. ``draft_watermark``
    forces the "ร่าง" watermark on or off; by default a draft or returned memo carries it
    (and a withdrawn one "ยกเลิก"). ``emblem_data_url`` (see ``data_url``) fills the Garuda
    slot; it is empty by default. ``now`` (naive UTC) is the printing time shown.
    """
    if emblem_data_url is not None and not emblem_data_url.startswith("data:image/"):
        raise ValueError("the emblem must be a data:image/ URL (the renderer fetches nothing)")
    document = build_document(
        session,
        memo,
        verify_url=verify_url,
        draft_watermark=draft_watermark,
        emblem_data_url=emblem_data_url,
        now=now,
    )
    return render_document_html(document)


def memo_document_pdf(
    session: Session,
    memo: Memo,
    *,
    verify_url: str,
    draft_watermark: bool | None = None,
    emblem_data_url: str | None = None,
    now: datetime | None = None,
    engine: ChromiumEngine | None = None,
) -> bytes:
    """The memo as an A4 PDF (the same page as ``memo_document_html``, printed by Chromium).

    Raises DocumentEngineUnavailable, naming what to install, when Chromium, playwright or
    the font is missing, and DocumentRenderError when Chromium fails to print.
    """
    html = memo_document_html(
        session,
        memo,
        verify_url=verify_url,
        draft_watermark=draft_watermark,
        emblem_data_url=emblem_data_url,
        now=now,
    )
    return (engine or default_engine()).render_pdf(html)
