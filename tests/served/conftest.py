"""The served stack for a test session: ``memoflow serve`` (gunicorn, two workers) started
once, on SQLite in its own home, or — on CI's PostgreSQL pass (MEMOFLOW_TEST_DATABASE_URL
is a postgresql URL) — on a database of its own, created here and dropped at the end,
never the database the other tests empty before each test.

When a test that used a served stack fails, the server's log is added to its report.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.served.server import ServedStack, database_of_its_own, serve

# The upload limit of the served stack: small, so that a 413 costs little to provoke.
MAX_UPLOAD_MB = 1
MISSING_CHROMIUM = "/nonexistent/memoflow-test/chromium"


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedStack]:
    """``memoflow serve --workers 2`` seeded with the demo office (password
    ``tests.conftest.PASSWORD``), uploads limited to MAX_UPLOAD_MB."""
    with (
        database_of_its_own("served") as database_url,
        serve(
            tmp_path_factory.mktemp("served"),
            database_url=database_url,
            extra_env={"MEMOFLOW_MAX_UPLOAD_MB": str(MAX_UPLOAD_MB)},
        ) as stack,
    ):
        yield stack


@pytest.fixture(scope="session")
def served_without_chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedStack]:
    """A second stack (one worker) whose MEMOFLOW_CHROMIUM names no executable: its PDFs
    answer 503, the honest 5xx of a server without what the README says to install."""
    with (
        database_of_its_own("served_nochromium") as database_url,
        serve(
            tmp_path_factory.mktemp("served-nochromium"),
            database_url=database_url,
            extra_env={"MEMOFLOW_CHROMIUM": MISSING_CHROMIUM},
            workers=1,
        ) as stack,
    ):
        yield stack


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        for name in ("served", "served_without_chromium"):
            stack = getattr(item, "funcargs", {}).get(name)
            if isinstance(stack, ServedStack):
                report.sections.append((f"{name}: memoflow serve log", stack.log_tail(120)))
    return report
