"""Headless Chromium as the PDF engine, driven through Playwright (docs/pdf.md says why).

One browser per process, started on the first render and kept alive, so a render costs a
page layout and a print (tens of milliseconds), not a browser start (about half a second).

Playwright's sync API is bound to the thread that started it, while a web server calls
from many threads. So one daemon thread owns Playwright, the browser and a single page,
and every render is a job handed to it through a queue. Renders are therefore serialised
per process; on the two-core machines this runs on, parallel renders would not be faster.

The page runs without JavaScript and with every network request aborted: the document is
self-contained (fonts and images are ``data:`` URLs, which are not requests).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from queue import SimpleQueue
from typing import Any

from config import chromium_setting
from webapp.document.errors import DocumentEngineUnavailable, DocumentRenderError

CHROMIUM_ENV = "MEMOFLOW_CHROMIUM"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
INSTALL_HINT = (
    "install Debian's Chromium (apt-get install chromium) or set MEMOFLOW_CHROMIUM to the"
    " path of a Chromium or Chrome executable"
)
# Quiet, offline, reproducible: no first-run UI, no background fetches, no GPU (none on a
# server). --no-sandbox because servers and CI run this as root, where Chromium refuses to
# start sandboxed; the page runs no script and loads nothing, which is what a sandbox
# would protect against.
LAUNCH_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
RENDER_TIMEOUT_S = 60.0
PAGE_TIMEOUT_MS = 30_000


def find_chromium() -> str:
    """The Chromium executable to use; DocumentEngineUnavailable if there is none."""
    configured = chromium_setting()
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise DocumentEngineUnavailable(
                f"{CHROMIUM_ENV}={configured} is not an executable file; " + INSTALL_HINT
            )
        return found
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found is not None:
            return found
    raise DocumentEngineUnavailable("Chromium was not found: " + INSTALL_HINT)


def require_playwright() -> None:
    """DocumentEngineUnavailable unless the playwright package can be imported."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        raise DocumentEngineUnavailable(
            "the Python package playwright is not installed (pip install playwright);"
            " its own browser download is not needed, Debian's Chromium is used"
        ) from error


def check_engine() -> str:
    """Check that a PDF can be made here without starting anything; return Chromium's
    path. Raises DocumentEngineUnavailable naming what to install."""
    require_playwright()
    return find_chromium()


@dataclass
class _Job:
    html: str
    result: Future[bytes]


class _Browser:
    """Playwright, the browser and one page; lives and dies in the worker thread."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.playwright: Any = None
        self.browser: Any = None
        self.page: Any = None

    def _start(self) -> None:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        self.close()
        try:
            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(
                executable_path=self.executable,
                args=list(LAUNCH_ARGS),
                handle_sigint=False,
                handle_sigterm=False,
                handle_sighup=False,
            )
        except PlaywrightError as error:
            self.close()
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise DocumentEngineUnavailable(
                f"Chromium at {self.executable} did not start ({first_line}); " + INSTALL_HINT
            ) from error
        context = self.browser.new_context(java_script_enabled=False)
        # Nothing may leave the machine; data: URLs are not requests and still load.
        context.route("**/*", lambda route: route.abort())
        self.page = context.new_page()
        self.page.set_default_timeout(PAGE_TIMEOUT_MS)

    def _ready_page(self) -> Any:
        if self.browser is None or not self.browser.is_connected() or self.page.is_closed():
            self._start()
        return self.page

    def pdf(self, html: str) -> bytes:
        from playwright.sync_api import Error as PlaywrightError

        for attempt in (1, 2):
            page = self._ready_page()
            try:
                page.set_content(html, wait_until="load")
                # The faces are data: URLs and load with the page; wait anyway so a
                # render can never print in a fallback font.
                page.evaluate("document.fonts.ready.then(() => document.fonts.status)")
                pdf: bytes = page.pdf(prefer_css_page_size=True, print_background=True)
                return pdf
            except PlaywrightError as error:
                # A crashed page or browser: start afresh once, then give up.
                self.close()
                if attempt == 2:
                    raise DocumentRenderError(f"Chromium failed to print: {error}") from error
        raise AssertionError("unreachable")

    def close(self) -> None:
        for thing, method in ((self.browser, "close"), (self.playwright, "stop")):
            if thing is not None:
                # Closing a browser that already crashed raises; there is nothing to undo.
                with contextlib.suppress(Exception):
                    getattr(thing, method)()
        self.playwright = self.browser = self.page = None


class ChromiumEngine:
    """Renders HTML to PDF bytes with one long-lived Chromium. Thread-safe; fork-aware
    (a forked child starts its own browser on first use)."""

    def __init__(self, executable: str | None = None, timeout_s: float = RENDER_TIMEOUT_S):
        self._executable = executable
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._jobs: SimpleQueue[_Job | None] = SimpleQueue()
        self._pid = os.getpid()

    def render_pdf(self, html: str) -> bytes:
        """The PDF Chromium prints for ``html`` (A4 and margins come from its CSS)."""
        require_playwright()
        executable = self._executable or find_chromium()
        job = _Job(html, Future())
        with self._lock:
            self._ensure_worker(executable)
            self._jobs.put(job)
        try:
            return job.result.result(timeout=self._timeout_s)
        except FutureTimeout as error:
            job.result.cancel()
            raise DocumentRenderError(
                f"Chromium did not produce the PDF within {self._timeout_s:.0f} s"
            ) from error

    def _ensure_worker(self, executable: str) -> None:
        if self._pid != os.getpid():
            # A forked child inherits neither the thread nor the browser.
            self._thread, self._jobs, self._pid = None, SimpleQueue(), os.getpid()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._work, args=(executable, self._jobs), name="memoflow-pdf", daemon=True
            )
            self._thread.start()

    @staticmethod
    def _work(executable: str, jobs: SimpleQueue[_Job | None]) -> None:
        browser = _Browser(executable)
        try:
            while (job := jobs.get()) is not None:
                if not job.result.set_running_or_notify_cancel():
                    continue
                try:
                    job.result.set_result(browser.pdf(job.html))
                except BaseException as error:  # handed to the caller, who re-raises it
                    job.result.set_exception(error)
        finally:
            browser.close()

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the browser (if this process started one) and its thread."""
        with self._lock:
            thread = self._thread
            if thread is None or self._pid != os.getpid():
                return
            self._jobs.put(None)
            self._thread = None
        thread.join(timeout_s)


_default: ChromiumEngine | None = None
_default_lock = threading.Lock()


def default_engine() -> ChromiumEngine:
    """The process-wide engine, created on first use and closed at interpreter exit."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ChromiumEngine()
            atexit.register(_default.close)
        return _default


def shutdown_engine() -> None:
    """Close the process-wide browser now (tests, CLI commands); a later render restarts it."""
    with _default_lock:
        engine = _default
    if engine is not None:
        engine.close()
