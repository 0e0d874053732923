"""The document's typeface: Sarabun (OFL), embedded in the page as ``data:`` URLs.

The files come from the PyPI package ``fontpkg-sarabun``, so a fresh machine gets them
with ``pip`` and the renderer never reads fonts from the network or depends on what the
system happens to have installed. Only the regular and bold faces are used.
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

from webapp.document.errors import DocumentEngineUnavailable

FAMILY = "Sarabun"
FACES = ((400, "Sarabun-Regular.ttf"), (700, "Sarabun-Bold.ttf"))


def font_directory() -> Path:
    """Where the Sarabun files are; DocumentEngineUnavailable if the package is missing."""
    try:
        import fontpkg_sarabun
    except ImportError as error:
        raise DocumentEngineUnavailable(
            "the Sarabun font is missing: install the Python package fontpkg-sarabun"
            " (pip install fontpkg-sarabun)"
        ) from error
    directory = Path(fontpkg_sarabun.ROOT) / "files"
    missing = [name for _, name in FACES if not (directory / name).is_file()]
    if missing:
        raise DocumentEngineUnavailable(
            f"the Sarabun font files {', '.join(missing)} are missing from {directory};"
            " reinstall fontpkg-sarabun"
        )
    return directory


@cache
def font_face_css() -> str:
    """``@font-face`` rules for Sarabun regular and bold, the files inlined as base64.

    Built once per process: the two files are about 90 KB each.
    """
    directory = font_directory()
    rules = []
    for weight, name in FACES:
        data = base64.b64encode((directory / name).read_bytes()).decode("ascii")
        rules.append(
            "@font-face{"
            f"font-family:'{FAMILY}';font-style:normal;font-weight:{weight};"
            f"src:url(data:font/ttf;base64,{data}) format('truetype');"
            "}"
        )
    return "\n".join(rules)
