"""Checks of a PDF's text layer: extraction with poppler, whitespace-free comparison, and
whether each line break falls on a Thai word boundary (PyThaiNLP's dictionary)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from html import unescape
from pathlib import Path

from pythainlp.corpus import thai_words
from pythainlp.tokenize import word_tokenize

WHITESPACE = re.compile(r"\s+")
THAI = re.compile(r"[\u0E00-\u0E7F]")


def squeeze(text: str) -> str:
    """``text`` with all whitespace removed (how text-layer fidelity is compared)."""
    return WHITESPACE.sub("", text)


def poppler_missing() -> str | None:
    for tool in ("pdftotext", "pdftoppm"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install poppler-utils)"
    return None


def pdftotext(pdf: bytes, tmp_path: Path, *options: str) -> str:
    source = tmp_path / "document.pdf"
    source.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *options, str(source), "-"],
        check=True,
        capture_output=True,
    )
    return result.stdout.decode("utf-8")


@cache
def _dictionary() -> frozenset[str]:
    return frozenset(thai_words())


def _segmentable(text: str) -> bool:
    """Whether ``text`` is a sequence of dictionary words (non-Thai runs count as words)."""
    if not text:
        return False
    words = _dictionary()
    reachable = [True] + [False] * len(text)
    for end in range(1, len(text) + 1):
        for start in range(max(0, end - 40), end):
            if not reachable[start]:
                continue
            piece = text[start:end]
            if piece in words or not THAI.search(piece):
                reachable[end] = True
                break
    return reachable[-1]


def token_boundaries(text: str) -> tuple[set[int], list[tuple[int, int, str]]]:
    """Word boundaries of ``text`` by PyThaiNLP (newmm), as offsets into ``squeeze(text)``,
    and the tokens with their squeezed spans."""
    boundaries = {0}
    spans = []
    offset = 0
    for token in word_tokenize(text, engine="newmm", keep_whitespace=True):
        length = len(squeeze(token))
        if length:
            spans.append((offset, offset + length, squeeze(token)))
        offset += length
        boundaries.add(offset)
    return boundaries, spans


@dataclass(frozen=True)
class BadBreak:
    line_end: str
    line_start: str
    token: str

    def __str__(self) -> str:
        return f"…{self.line_end} | {self.line_start}… splits {self.token!r}"


def bad_line_breaks(source: str, lines: list[str]) -> list[BadBreak]:
    """The line breaks in ``lines`` (the source text as laid out, one entry per printed
    line) that fall inside a word: not on a PyThaiNLP token boundary, and not between two
    dictionary words of a compound token."""
    squeezed_lines = [squeeze(line) for line in lines if squeeze(line)]
    joined = "".join(squeezed_lines)
    assert joined == squeeze(source), "the lines do not spell the source text"
    boundaries, spans = token_boundaries(source)
    bad = []
    position = 0
    for line in squeezed_lines[:-1]:
        position += len(line)
        if position in boundaries:
            continue
        start, _end, token = next(span for span in spans if span[0] < position < span[1])
        cut = position - start
        if _segmentable(token[:cut]) and _segmentable(token[cut:]):
            continue  # a compound broken between two of its words
        before, after = joined[position - 8 : position], joined[position : position + 8]
        bad.append(BadBreak(before, after, token))
    return bad


# --- reading the PDF ------------------------------------------------------------------

A4_POINTS = (595.28, 841.89)
POINTS_PER_CM = 72 / 2.54
# The text area: everything but the running head ("- 2 -") and the footer (hash, URL, QR).
RUNNING_HEAD_BOTTOM = 40.0
FOOTER_TOP = A4_POINTS[1] - 2.6 * POINTS_PER_CM


def page_count(pdf: bytes) -> int:
    from io import BytesIO

    from pypdf import PdfReader

    return len(PdfReader(BytesIO(pdf)).pages)


def body_text(pdf: bytes, tmp_path: Path, layout: bool = True) -> str:
    """The text of every page's text area, pages in order, without the running head and
    the footer (so a paragraph that runs on to the next page reads on uninterrupted)."""
    pages = []
    for page in range(1, page_count(pdf) + 1):
        top = 0.0 if page == 1 else RUNNING_HEAD_BOTTOM
        crop = ["-x", "0", "-y", f"{top:.0f}", "-W", f"{A4_POINTS[0]:.0f}"]
        crop += ["-H", f"{FOOTER_TOP - top:.0f}", "-r", "72"]
        options = ["-f", str(page), "-l", str(page), *crop]
        if layout:
            options.append("-layout")
        pages.append(pdftotext(pdf, tmp_path, *options))
    return "\n".join(pages)


def paragraph_lines(lines: list[str], paragraph: str) -> list[str]:
    """The printed lines that together spell ``paragraph`` (compared without whitespace)."""
    target = squeeze(paragraph)
    printed = [line for line in lines if squeeze(line)]
    for start, first in enumerate(printed):
        if not target.startswith(squeeze(first)):
            continue
        spelled = ""
        for end in range(start, len(printed)):
            spelled += squeeze(printed[end])
            if spelled == target:
                return printed[start : end + 1]
            if not target.startswith(spelled):
                break
    raise AssertionError(f"the paragraph is not printed as whole lines: {paragraph[:40]}…")


@dataclass(frozen=True)
class Word:
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float

    @property
    def x_centre(self) -> float:
        return (self.x_min + self.x_max) / 2


WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)


def page_words(pdf: bytes, tmp_path: Path, page: int) -> list[Word]:
    """The words of one page with their boxes in points (``pdftotext -bbox``)."""
    html = pdftotext(pdf, tmp_path, "-bbox", "-f", str(page), "-l", str(page))
    return [
        Word(unescape(text), float(x0), float(y0), float(x1), float(y1))
        for x0, y0, x1, y1, text in WORD.findall(html)
    ]
