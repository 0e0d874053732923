"""The official document: a memo rendered as the บันทึกข้อความ a Thai clerk files.

Flask-free: ``memo_document_html`` and ``memo_document_pdf`` take a SQLAlchemy session and
a memo and return a self-contained HTML page or PDF bytes. docs/pdf.md explains the engine
(headless Chromium through Playwright) and the typography.
"""

from webapp.document.engine import ChromiumEngine, check_engine, shutdown_engine
from webapp.document.errors import DocumentEngineUnavailable, DocumentError, DocumentRenderError
from webapp.document.renderer import data_url, memo_document_html, memo_document_pdf

__all__ = [
    "ChromiumEngine",
    "DocumentEngineUnavailable",
    "DocumentError",
    "DocumentRenderError",
    "check_engine",
    "data_url",
    "memo_document_html",
    "memo_document_pdf",
    "shutdown_engine",
]
