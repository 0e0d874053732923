"""What may be attached to a memo: office documents, images and text, whose contents
match their file name. Executables and disguised files are refused.

The contents' type is detected by the ``filetype`` library (magic numbers); the name is
kept for display only and never used as a path. The media type stored is the detected
one, so a download is served as what the file really is.
"""

from __future__ import annotations

import mimetypes
import re

import filetype

from workflow.errors import ValidationFailed

# Extension → the media types its contents may be detected as (None: undetectable text).
EXPECTED: dict[str, frozenset[str | None]] = {
    "pdf": frozenset({"application/pdf"}),
    "png": frozenset({"image/png"}),
    "jpg": frozenset({"image/jpeg"}),
    "jpeg": frozenset({"image/jpeg"}),
    "gif": frozenset({"image/gif"}),
    "webp": frozenset({"image/webp"}),
    "tif": frozenset({"image/tiff"}),
    "tiff": frozenset({"image/tiff"}),
    "csv": frozenset({None}),
    "txt": frozenset({None}),
    "rtf": frozenset({"application/rtf", None}),
    "doc": frozenset({"application/msword", "application/x-ole-storage", None}),
    "xls": frozenset({"application/vnd.ms-excel", "application/x-ole-storage", None}),
    "ppt": frozenset({"application/vnd.ms-powerpoint", "application/x-ole-storage", None}),
    "docx": frozenset(
        {
            "application/zip",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }
    ),
    "xlsx": frozenset(
        {"application/zip", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    ),
    "pptx": frozenset(
        {
            "application/zip",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        }
    ),
    "odt": frozenset({"application/zip", "application/vnd.oasis.opendocument.text"}),
    "ods": frozenset({"application/zip", "application/vnd.oasis.opendocument.spreadsheet"}),
    "odp": frozenset({"application/zip", "application/vnd.oasis.opendocument.presentation"}),
}
EXECUTABLE_TYPES = frozenset(
    {
        "application/x-msdownload",
        "application/x-executable",
        "application/x-mach-binary",
        "application/x-elf",
        "application/vnd.android.dex",
        "application/x-dex",
        "application/wasm",
        "application/x-shockwave-flash",
        "application/x-deb",
        "application/x-rpm",
        "application/vnd.ms-cab-compressed",
    }
)
# Bidirectional overrides can disguise a name ("…\u202efdp.exe" shows as "…exe.pdf").
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
TEXT_ENCODINGS = ("utf-8", "cp874")  # cp874: Thai Windows, what Excel exports CSV as


def attachment_media_type(filename: str, data: bytes, claimed: str | None = None) -> str:
    """The media type to store for an upload, or ValidationFailed saying why it is refused:
    ``bidi_filename``, ``extension_not_allowed``, ``executable``, ``content_mismatch``."""
    if BIDI_CONTROLS.search(filename):
        raise ValidationFailed({"file": "bidi_filename"})
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    detected = filetype.guess(data)
    detected_mime = detected.mime if detected is not None else None
    if detected_mime in EXECUTABLE_TYPES:
        raise ValidationFailed({"file": "executable"})
    if extension not in EXPECTED:
        raise ValidationFailed({"file": "extension_not_allowed:" + ",".join(sorted(EXPECTED))})
    if detected_mime not in EXPECTED[extension]:
        raise ValidationFailed({"file": "content_mismatch"})
    if detected_mime is None and extension in ("csv", "txt") and not _is_text(data):
        raise ValidationFailed({"file": "content_mismatch"})
    if detected_mime in (None, "application/zip", "application/x-ole-storage"):
        by_name = mimetypes.guess_type("x." + extension)[0]
        return by_name or claimed or "application/octet-stream"
    return str(detected_mime)


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    for encoding in TEXT_ENCODINGS:
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return True
    return False
