"""Rules for text people type: what is stored exactly and what is refused.

Text is stored exactly as typed (Thai, zero-width spaces and markup-looking text included;
escaping is the renderer's job), except that CR LF and lone CR become LF. Control
characters other than newline and tab are refused, as is text over a field's limit.
"""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise_newlines(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def check_text(value: object, limit: int, required: bool = False) -> str | None:
    """A problem code for ``value`` (see webapp.messages), or None when it is acceptable:
    ``not_text``, ``required``, ``too_long:<limit>``, ``control_characters``."""
    if not isinstance(value, str):
        return "not_text"
    if required and not value.strip():
        return "required"
    if len(value) > limit:
        return f"too_long:{limit}"
    if CONTROL_CHARACTERS.search(value):
        return "control_characters"
    return None
