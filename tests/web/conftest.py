"""Helpers for the web-page tests: a signed-in test client per seed user.

CSRF is switched off for these clients (the tests that prove CSRF is enforced build
their own client with it on); everything else is the real application.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import PASSWORD, Office

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token_in(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


class Web:
    """The site as one person sees it through the Flask test client."""

    def __init__(self, app: Any, office: Office) -> None:
        self.app = app
        self.office = office
        self.client = app.test_client()

    def login(self, username: str, password: str = PASSWORD) -> Any:
        response = self.client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.post(path, data=data or {}, **kwargs)

    def text(self, path: str) -> str:
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return str(response.get_data(as_text=True))

    def act(self, memo_id: int, action: str, **fields: Any) -> Any:
        """Press an action button on the memo page, with the version the page shows."""
        data = {"action": action, "version": self.office.memo(memo_id).version, **fields}
        return self.post(f"/memos/{memo_id}", data)


@pytest.fixture
def web_app(app: Any) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.fixture
def as_user(web_app: Any, app_office: Office) -> Any:
    """``as_user("head")`` is a signed-in Web for that seed user."""

    def make(username: str) -> Web:
        web = Web(web_app, app_office)
        web.login(username)
        return web

    return make


@pytest.fixture
def anonymous(web_app: Any, app_office: Office) -> Web:
    return Web(web_app, app_office)
