"""Render-time benchmark of the official document (issue 4): the median of repeated
renders of the seed memo, signed through its whole route, to PDF.

The seed memo prints as two pages of memo plus the audit-trail page. Each timed render
is what a request pays: build the document from the database (queries, hashes, audit
timeline), render the HTML, and have the already-running Chromium print it. The first
render, which also starts Chromium, is reported separately.

    python -m benchmarks.render [--runs 30]

(Run as a module: as a script, this folder comes first on the path and its http.py
hides the standard library's http.)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "document")]
os.environ.setdefault("MEMOFLOW_PASSWORD_HASH", "fast")

from memo_scenarios import VERIFY_URL, Office  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from webapp.document import memo_document_html, memo_document_pdf, shutdown_engine  # noqa: E402
from webapp.document.engine import find_chromium  # noqa: E402

TARGET_MS = 200.0


def milliseconds(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(s * 1000 for s in seconds)
    return {
        "median": statistics.median(ordered),
        "p90": ordered[max(0, round(0.9 * len(ordered)) - 1)],
        "min": ordered[0],
        "max": ordered[-1],
    }


def describe_machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} cores, {platform.platform()}"


def chromium_version() -> str:
    result = subprocess.run(
        [find_chromium(), "--version"], capture_output=True, text=True, check=False
    )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    return lines[-1] if lines else "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed renders (default 30)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        office = Office.in_sqlite(Path(tmp) / "bench.sqlite3")
        memo_id = office.seed_memo()
        with office.memo(memo_id) as (session, memo):
            started = time.perf_counter()
            pdf = memo_document_pdf(session, memo, verify_url=VERIFY_URL)
            cold = time.perf_counter() - started
            pages = len(PdfReader(BytesIO(pdf)).pages)

            html_times, pdf_times = [], []
            for _ in range(args.runs):
                started = time.perf_counter()
                memo_document_html(session, memo, verify_url=VERIFY_URL)
                html_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                memo_document_pdf(session, memo, verify_url=VERIFY_URL)
                pdf_times.append(time.perf_counter() - started)
        shutdown_engine()

    whole = milliseconds(pdf_times)
    html = milliseconds(html_times)
    print(f"machine: {describe_machine()}")
    print(f"python {platform.python_version()}, {chromium_version()}")
    print(f"document: seed memo, {pages} PDF pages ({len(pdf)} bytes)")
    print(f"first render (starts Chromium): {cold * 1000:.0f} ms")
    print(
        f"PDF render, {args.runs} runs: median {whole['median']:.0f} ms, p90 {whole['p90']:.0f} ms,"
        f" min {whole['min']:.0f} ms, max {whole['max']:.0f} ms (target <= {TARGET_MS:.0f} ms)"
    )
    print(f"  of which HTML only: median {html['median']:.1f} ms")
    return 0 if whole["median"] <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
