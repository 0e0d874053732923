"""The canonical encoding behind every hash in memoflow (documented in docs/audit.md).

UTF-8 JSON with keys sorted, no insignificant whitespace and no ASCII escaping; times as
ISO 8601 UTC with microseconds and a ``Z``. An auditor can recompute any hash with the
standard library alone: ``hashlib.sha256(json.dumps(obj, sort_keys=True,
separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(obj: Any) -> str:
    return sha256_hex(canonical_json(obj))


def sha256_hex(encoded: str) -> str:
    """The hash of a canonical encoding already made (``canonical_json``)."""
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def format_utc(stored_utc: datetime) -> str:
    """A stored naive-UTC time in the canonical form, e.g. 2026-11-25T09:30:00.000000Z."""
    return stored_utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
