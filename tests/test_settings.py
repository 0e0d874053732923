"""Settings only in config.py (issue 19, point 6): every MEMOFLOW_* variable is read there,
so one file says what can be configured and how."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from config import Config, chromium_setting, password_hash_mode

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("models", "workflow", "webapp")


def _environment_reads(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
        and node.attr in ("environ", "getenv", "putenv")
    ]


def test_no_layer_reads_the_environment_itself() -> None:
    found = {
        str(path.relative_to(ROOT)): lines
        for layer in LAYERS
        for path in sorted((ROOT / layer).rglob("*.py"))
        if (lines := _environment_reads(path))
    }
    assert found == {}, f"read these settings through config.py instead: {found}"


def test_the_settings_moved_into_config_still_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEMOFLOW_SECURE_COOKIES", "1")
    monkeypatch.setenv("MEMOFLOW_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:1")
    monkeypatch.setenv("MEMOFLOW_LOGIN_RATE_LIMIT", "3 per minute")
    monkeypatch.setenv("MEMOFLOW_CHROMIUM", " /opt/chromium ")
    monkeypatch.setenv("MEMOFLOW_PASSWORD_HASH", "fast")
    config = Config(SECRET_KEY="x", DATABASE_URL="sqlite://")
    assert config.SECURE_COOKIES is True
    assert config.RATELIMIT_STORAGE_URI == "redis://127.0.0.1:1"
    assert config.LOGIN_RATE_LIMIT == "3 per minute"
    assert chromium_setting() == "/opt/chromium"
    assert password_hash_mode() == "fast"
