"""Fixtures of the security tests: the people an attacker can be, and proof that a refusal
changed nothing.

Besides the seed office (officer, head, palad, mayor, admin) the ``cast`` adds:
``officer2`` (a colleague off every route), ``retired`` (holds the head-of-office role but
is deactivated) and three people of another organisation: ``other_officer``,
``other_mayor`` (the same role name as the seed mayor) and ``other_admin``.

``snapshot`` reads every table except the security log (refusals are written there on
purpose), so ``assert snapshot(...) == before`` proves a refused request wrote nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Base
from tests.conftest import PASSWORD, ApiClient, Office
from workflow import accounts, audit

# Tests that start processes or generate many examples; CI runs them, `-m "not slow"` not.
SLOW_MARKER = "slow: security tests that fuzz, start servers or kill them (bounded, ~1 min)"

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
OTHER_ORGANISATION = "เทศบาลตำบลบ้านใหม่"
EXTRA_PEOPLE = (
    # username, full name, position, role, organisation (None: the seed office)
    ("officer2", "นายสมชาย ใจดี", "นักจัดการงานทั่วไป", "officer", None),
    ("retired", "นางสาวอดีต หัวหน้า", "หัวหน้าสำนักปลัด", "head_of_office", None),
    ("other_officer", "นายต่าง ถิ่น", "นิติกร", "officer", OTHER_ORGANISATION),
    ("other_mayor", "นายนายก ต่างถิ่น", "นายกเทศมนตรี", "mayor", OTHER_ORGANISATION),
    ("other_admin", "ผู้ดูแล ต่างถิ่น", "ผู้ดูแลระบบ", "admin", OTHER_ORGANISATION),
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", SLOW_MARKER)


def add_cast(office: Office) -> None:
    """Add the extra people (see the module docstring); ``retired`` ends deactivated."""

    def work(session: Session) -> None:
        other = accounts.create_organisation(
            session, OTHER_ORGANISATION, "ชม 52001", short_name="ทต.บ้านใหม่"
        )
        for username, full_name, position, role, organisation in EXTRA_PEOPLE:
            accounts.add_user(
                session,
                other if organisation else accounts.only_organisation(session, "อบต.ควนขนุน"),
                username,
                full_name,
                position,
                role,
                PASSWORD,
            )

    office.run(work)


def deactivate(office: Office, username: str) -> None:
    office.run(lambda s: setattr(office.user(s, username), "active", False))


def snapshot(office: Office) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the security log, in primary-key order."""

    def read(session: Session) -> dict[str, list[tuple[Any, ...]]]:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(select(table).order_by(*table.primary_key.columns)).all()
            ]
            for table in Base.metadata.sorted_tables
            if table.name != "security_event"
        }

    return dict(office.run(read))


def chain_verifies(office: Office) -> None:
    report = office.run(audit.verify)
    assert report.ok, report.problems


def csrf_token_in(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


class Browser:
    """One person's test client on the HTML pages (signed in with ``login``)."""

    def __init__(self, app: Any, office: Office, username: str | None = None) -> None:
        self.app = app
        self.office = office
        self.client = app.test_client()
        self.username = username
        if username:
            self.login(username)

    def login(self, username: str, password: str = PASSWORD) -> Any:
        data = {"username": username, "password": password}
        if self.app.config.get("WTF_CSRF_ENABLED", True):
            data["csrf_token"] = csrf_token_in(self.client.get("/login").get_data(as_text=True))
        response = self.client.post("/login", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return response

    def html(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return str(response.get_data(as_text=True))


@pytest.fixture
def cast_office(app_office: Office) -> Office:
    """The seed office of the web app, with the extra people."""
    add_cast(app_office)
    return app_office


@pytest.fixture
def cast_api(client: Any, cast_office: Office) -> ApiClient:
    return ApiClient(client, cast_office)


@pytest.fixture
def browser(app: Any, cast_office: Office) -> Callable[[str | None], Browser]:
    """``browser("head")``: a signed-in client (CSRF switched off); None: anonymous."""
    app.config["WTF_CSRF_ENABLED"] = False

    def make(username: str | None) -> Browser:
        return Browser(app, cast_office, username)

    return make
