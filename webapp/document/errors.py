"""The renderer's exceptions. The web layer maps DocumentEngineUnavailable to 503."""

from __future__ import annotations


class DocumentError(Exception):
    """Base of every error raised while producing the official document."""


class DocumentEngineUnavailable(DocumentError):
    """A part the PDF engine needs is not installed (Chromium, playwright, the font).

    The message names what to install; it is meant to be shown to an administrator.
    """


class DocumentRenderError(DocumentError):
    """Chromium was there but did not produce the PDF (crash, timeout)."""
