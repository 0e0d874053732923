"""Fixtures of the document tests: the seed office in a SQLite file of its own, memos
taken along the route through the workflow verbs, and the PDF engine (tests that need
Chromium or poppler skip, saying what to install, where either is missing)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("MEMOFLOW_PASSWORD_HASH", "fast")
pytest.importorskip("segno", reason="the renderer needs segno (pip install segno)")

from memo_scenarios import VERIFY_URL, Office, RenderHtml, RenderPdf
from thai_checks import poppler_missing

from webapp.document import (
    DocumentEngineUnavailable,
    check_engine,
    memo_document_html,
    memo_document_pdf,
    shutdown_engine,
)


@pytest.fixture
def seed_office(tmp_path: Path) -> Office:
    """The seed organisation and its people in a fresh SQLite database."""
    return Office.in_sqlite(tmp_path / "document.sqlite3")


@pytest.fixture(scope="session")
def chromium() -> Iterator[str]:
    """Chromium's path; skips the test when Chromium or playwright is not installed."""
    try:
        path = check_engine()
    except DocumentEngineUnavailable as error:
        pytest.skip(f"no PDF engine here: {error}")
    yield path
    shutdown_engine()


@pytest.fixture(scope="session")
def poppler() -> None:
    reason = poppler_missing()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def render_pdf(seed_office: Office, chromium: str, poppler: None) -> RenderPdf:
    """Render memo ``memo_id`` of the seed office to PDF bytes."""

    def render(memo_id: int, **options: Any) -> bytes:
        options.setdefault("verify_url", VERIFY_URL)
        with seed_office.memo(memo_id) as (session, memo):
            return memo_document_pdf(session, memo, **options)

    return render


@pytest.fixture
def render_html(seed_office: Office) -> RenderHtml:
    def render(memo_id: int, **options: Any) -> str:
        options.setdefault("verify_url", VERIFY_URL)
        with seed_office.memo(memo_id) as (session, memo):
            return memo_document_html(session, memo, **options)

    return render
