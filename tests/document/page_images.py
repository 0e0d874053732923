"""Page images for visual checks: pdftoppm renders a page as an 8-bit grayscale PNG, and a
small decoder (standard library only) reads it back for pixel comparison."""

from __future__ import annotations

import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Gray:
    width: int
    height: int
    pixels: bytes  # row-major, one byte per pixel, 0 = black

    def at(self, x: int, y: int) -> int:
        return self.pixels[y * self.width + x]


def render_page(pdf: bytes, page: int, out_dir: Path, dpi: int = 50, gray: bool = True) -> Path:
    """Page ``page`` (1-based) of ``pdf`` as a PNG file; returns its path."""
    source = out_dir / "page-source.pdf"
    source.write_bytes(pdf)
    stem = out_dir / f"page-{page}-{dpi}{'-gray' if gray else ''}"
    options = ["-gray"] if gray else []
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            *options,
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(source),
            str(stem),
        ],
        check=True,
        capture_output=True,
    )
    return stem.with_suffix(".png")


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _decode(path: Path) -> tuple[int, int, int, list[bytearray]]:
    """An 8-bit grayscale or RGB PNG as (width, height, channels, unfiltered rows)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    position, idat = 8, b""
    width = height = depth = colour = 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    assert depth == 8 and colour in (0, 2), f"unsupported PNG {depth=} {colour=}"
    channels = 1 if colour == 0 else 3
    stride = width * channels
    raw = zlib.decompress(idat)
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upper_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                line[i] = (line[i] + _paeth(left, up, upper_left)) & 0xFF
        rows.append(line)
        previous = line
    return width, height, channels, rows


def read_gray(path: Path) -> Gray:
    """A PNG's pixels as luminance (pdftoppm -gray still writes RGB PNGs)."""
    width, height, channels, rows = _decode(path)
    if channels == 1:
        return Gray(width, height, b"".join(bytes(row) for row in rows))
    luminance = bytes(
        (299 * row[3 * x] + 587 * row[3 * x + 1] + 114 * row[3 * x + 2]) // 1000
        for row in rows
        for x in range(width)
    )
    return Gray(width, height, luminance)


def read_rgb(path: Path) -> tuple[int, int, list[tuple[int, int, int]]]:
    """An RGB PNG as (width, height, pixels) for colour checks (stamps, watermark)."""
    width, height, channels, rows = _decode(path)
    assert channels == 3, "expected an RGB PNG"
    pixels = [(row[3 * x], row[3 * x + 1], row[3 * x + 2]) for row in rows for x in range(width)]
    return width, height, pixels


@dataclass(frozen=True)
class Difference:
    mean: float  # mean absolute difference per pixel, 0-255
    changed: float  # share of pixels differing by more than 64

    def __str__(self) -> str:
        return f"mean abs difference {self.mean:.2f}/255, {self.changed:.2%} of pixels changed"


def compare(actual: Gray, reference: Gray) -> Difference:
    assert (actual.width, actual.height) == (reference.width, reference.height), (
        f"size {actual.width}x{actual.height} != reference {reference.width}x{reference.height}"
    )
    total = changed = 0
    for a, b in zip(actual.pixels, reference.pixels, strict=True):
        delta = abs(a - b)
        total += delta
        changed += delta > 64
    count = len(actual.pixels)
    return Difference(total / count, changed / count)
