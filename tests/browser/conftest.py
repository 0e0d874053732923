"""Browser tests: memoflow as users run it — ``memoflow serve``, gunicorn with two workers,
started once per session through ``tests.served.server`` — driven by Debian's Chromium
through Playwright's sync API. Before each test the server's database is emptied and the
seed office (อบต.ควนขนุน) planted again, so each test starts from the same office with
ids and numbers from 1. The database is SQLite in the server's home, or on the PostgreSQL
pass (MEMOFLOW_TEST_DATABASE_URL) a database of its own, ``<test database>_browser``.

Chromium is never downloaded (``playwright install`` cannot reach its servers here): the
tests use Debian's ``/usr/bin/chromium`` (package ``chromium``; ``MEMOFLOW_CHROMIUM``
names another), found as the document renderer finds it, and skip, saying why, when it
is missing. Each screen is photographed at desktop
width and at 375 px into ``test-artifacts/screenshots/``, and at 375 px the page must not
scroll sideways and every control must be at least 44 px high.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, text
from sqlalchemy.orm import Session, sessionmaker

from models import search
from models.db import make_engine, make_session_factory
from tests.conftest import PASSWORD
from tests.served.server import ServedStack, database_of_its_own, serve
from webapp.document import engine
from webapp.document.errors import DocumentEngineUnavailable
from workflow import seed

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# The same Chromium, found the same way (MEMOFLOW_CHROMIUM, else /usr/bin/chromium) and
# started with the same quiet, offline flags as the document renderer; Playwright adds its
# own headless flag.
LAUNCH_ARGS = [arg for arg in engine.LAUNCH_ARGS if arg != "--headless"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
MIN_TAP = 44

# What one taps: links, buttons, fields, disclosure summaries, and labels of radio buttons
# and check boxes (the box itself is small; its label is the target).
TAP_TARGETS_JS = """
() => {
  const selector = 'a, button, select, textarea, summary, label.choice, '
    + 'input:not([type=hidden]):not([type=radio]):not([type=checkbox])';
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') continue;
    if (box.right < 0 || box.bottom < 0) continue;  // parked off screen (skip link)
    if (box.height < MIN_TAP - 0.5) {
      const label = (el.textContent || el.name || '').trim().slice(0, 30);
      small.push(`${el.tagName.toLowerCase()}.${el.className} "${label}" ${box.height}px`);
    }
  }
  return small;
}
""".replace("MIN_TAP", str(MIN_TAP))


@dataclass
class LiveServer:
    url: str
    stack: ServedStack
    sessions: sessionmaker[Session]

    def run(self, work: Callable[[Any], Any]) -> Any:
        """Run ``work(session)`` in one transaction on the live server's database."""
        with self.sessions.begin() as session:
            return work(session)


def reset_to_seed(engine: Engine, sessions: sessionmaker[Session]) -> None:
    """Empty every table of the served database (the schema and its Alembic revision
    stay), restart its id sequences, and plant the seed office again. The tables are read
    from the database (migrations may have made tables the models do not name); the text
    index (SQLite's FTS5 table and its shadow tables) follows the memo table by its
    triggers and is left to them."""
    tables = MetaData()
    tables.reflect(engine, only=lambda name, _meta: search.include_name(name, "table", None))
    postgresql = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        if postgresql:
            # A request still holding a lock must fail the test, not hang it.
            connection.execute(text("SET LOCAL lock_timeout = '20s'"))
        for table in reversed(tables.sorted_tables):
            if table.name != "alembic_version":
                connection.execute(table.delete())
        if postgresql:
            sequences = connection.execute(
                text(
                    "SELECT quote_ident(sequence_schema) || '.' || quote_ident(sequence_name)"
                    " FROM information_schema.sequences"
                    " WHERE sequence_schema = current_schema()"
                )
            ).scalars()
            for sequence in list(sequences):
                connection.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))
        elif connection.execute(
            text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")
        ).first():
            connection.execute(text("DELETE FROM sqlite_sequence"))
    with sessions.begin() as session:
        seed.seed_organisation(session, PASSWORD)


@pytest.fixture(scope="session")
def served_for_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedStack]:
    """``memoflow serve --workers 2`` for the whole browser session."""
    with (
        database_of_its_own("browser") as database_url,
        serve(tmp_path_factory.mktemp("browser-served"), database_url=database_url) as stack,
    ):
        yield stack


@pytest.fixture(scope="session")
def served_database(
    served_for_browser: ServedStack,
) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    database_engine = make_engine(served_for_browser.database_url)
    yield database_engine, make_session_factory(database_engine)
    database_engine.dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    try:
        executable = engine.find_chromium()
    except DocumentEngineUnavailable as missing:
        pytest.skip(f"no Chromium for the browser tests: {missing}")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(
    served_for_browser: ServedStack, served_database: tuple[Engine, sessionmaker[Session]]
) -> LiveServer:
    """The served memoflow (127.0.0.1, a free port), its database holding the seed office
    and nothing else. If the test fails, the server's log joins its report."""
    database_engine, sessions = served_database
    reset_to_seed(database_engine, sessions)
    return LiveServer(url=served_for_browser.url, stack=served_for_browser, sessions=sessions)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    server = getattr(item, "funcargs", {}).get("live_server")
    if report.failed and isinstance(server, LiveServer):
        report.sections.append(("memoflow serve log", server.stack.log_tail(120)))
    return report


class Person:
    """One browser context (its own cookies) signed in as one seed user."""

    def __init__(self, chromium: Any, server: LiveServer, username: str) -> None:
        self.server = server
        self.username = username
        self.context = chromium.new_context(
            base_url=server.url, viewport=DESKTOP, locale="th-TH", timezone_id="Asia/Bangkok"
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        # Script errors and broken assets fail the test; an error status of a page itself
        # (a 403 or 409 the test asked for) does not.
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("response", self._check_asset)

    def _check_asset(self, response: Any) -> None:
        if "/static/" in response.url and response.status >= 400:
            self.errors.append(f"{response.status} {response.url}")

    def login(self, password: str = PASSWORD) -> Person:
        page = self.page
        page.goto("/login")
        page.fill("input[name=username]", self.username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]:has-text('เข้าสู่ระบบ')")
        page.wait_for_url(re.compile(r"/(admin/users)?$"))
        return self

    def logout(self) -> None:
        self.page.click("header button:has-text('ออกจากระบบ')")
        self.page.wait_for_url(re.compile(r"/login$"))

    def close(self) -> None:
        assert not self.errors, f"browser errors for {self.username}: {self.errors}"
        self.context.close()


@pytest.fixture
def people(chromium: Any, live_server: LiveServer) -> Iterator[Callable[[str], Person]]:
    opened: list[Person] = []

    def open_as(username: str) -> Person:
        person = Person(chromium, live_server, username)
        opened.append(person)
        return person

    yield open_as
    for person in opened:
        person.close()


def check_phone_layout(page: Any, name: str) -> None:
    """At 375 px: nothing scrolls sideways, every control is big enough to tap."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px at 375px"
    small = page.evaluate(TAP_TARGETS_JS)
    assert not small, f"{name}: tap targets under {MIN_TAP}px: {small}"


@pytest.fixture
def shoot() -> Callable[[Any, str], None]:
    """``shoot(page, "inbox")`` saves inbox-desktop.png and inbox-375.png and checks the
    phone layout."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> None:
        page.wait_for_load_state("load")
        page.evaluate("() => document.fonts.ready")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
        page.set_viewport_size(PHONE)
        try:
            check_phone_layout(page, name)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-375.png"), full_page=True)
        finally:
            page.set_viewport_size(DESKTOP)

    return take
