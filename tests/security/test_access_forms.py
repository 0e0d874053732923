"""The access matrix through the HTML forms, and through the API for the people the API
matrix (tests/test_workflow_matrix.py) leaves out.

Every person an attacker could be — the author, a colleague off the route, each route
role, the admin, an anonymous visitor, a deactivated holder of a route role and people of
another organisation — presses every action button (and the edit form) on a memo in every
state. Allowed exactly where the rules of tests/test_workflow_matrix.py allow; refused
with the right status everywhere else, and a refusal writes nothing: every table but the
security log is byte-for-byte the same afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from models import Capacity
from tests.conftest import ApiClient, Office
from tests.security.conftest import Browser, chain_verifies, deactivate, snapshot
from tests.test_workflow_matrix import (
    ACTIONS,
    STATES,
    STATUS,
    bring_to,
    expected_error,
    options_for,
)
from workflow import accounts, acting

SEED_USERS = ["officer", "officer2", "head", "palad", "mayor", "admin"]
LOGGED_OUT = [None, "retired"]  # anonymous; signed in, then deactivated
OTHER_ORGANISATION = ["other_mayor", "other_admin"]
HTML_USERS: list[str | None] = [*SEED_USERS, *LOGGED_OUT, *OTHER_ORGANISATION]
LOGIN_REDIRECT = "login"


def expected_page(user: str | None, state: str, action: str) -> int | str:
    """The HTML answer: 302 to the memo when allowed, the login page for anyone not (or
    no longer) signed in, 404 for another organisation, the matrix's status otherwise."""
    if user in LOGGED_OUT:
        return LOGIN_REDIRECT
    if user in OTHER_ORGANISATION:
        return 404
    assert user is not None
    error = expected_error(user, state, action)
    return 302 if error is None else STATUS[error]


def press(browser: Browser, office: Office, memo_id: int, action: str, path_style: int) -> Any:
    """Submit the form the page would: the edit form, or an action button with the
    opinion/decision fields and the version the page shows."""
    version = office.memo(memo_id).version
    if action == "edit":
        data = {"version": version, **options_for(action)}
        return browser.client.post(f"/memos/{memo_id}/edit", data=data)
    data = {"action": action, "version": version, **options_for(action)}
    # The page posts to /memos/<id>/action; /memos/<id> accepts the same form.
    path = f"/memos/{memo_id}" if path_style % 2 else f"/memos/{memo_id}/action"
    return browser.client.post(path, data=data)


@pytest.mark.parametrize("state", STATES)
def test_html_form_matrix(
    browser: Callable[[str | None], Browser], cast_office: Office, state: str
) -> None:
    office = cast_office
    browsers = {user: browser(user) for user in HTML_USERS}
    deactivate(office, "retired")
    shared = bring_to(office, state)
    mismatches: list[str] = []
    for user in HTML_USERS:
        for index, action in enumerate(ACTIONS):
            want = expected_page(user, state, action)
            allowed = want == 302
            memo_id = bring_to(office, state) if allowed else shared
            before = snapshot(office)
            version = office.memo(memo_id).version
            response = press(browsers[user], office, memo_id, action, index)
            got: int | str = response.status_code
            if got == 302 and response.location.startswith("/login"):
                got = LOGIN_REDIRECT
            elif got == 302 and response.location != f"/memos/{memo_id}":
                got = f"302 to {response.location}"
            if got != want:
                mismatches.append(f"{user} {action} in {state}: {got} != {want}")
            if allowed:
                after = office.memo(memo_id)
                if after.version != version + 1:
                    mismatches.append(f"{user} {action} in {state}: allowed but not done")
            elif snapshot(office) != before:
                mismatches.append(f"{user} {action} in {state}: refused but wrote something")
    assert not mismatches, "\n".join(mismatches)
    chain_verifies(office)


def api_expected(user: str | None) -> int:
    if user in LOGGED_OUT:
        return 401
    return 404  # another organisation's memo does not exist for them


@pytest.mark.parametrize("state", STATES)
def test_api_matrix_for_outsiders(cast_api: ApiClient, state: str) -> None:
    """Anonymous, deactivated and other-organisation callers, every action, every state;
    and the memo, its audit trail and its attachment are out of their reach too."""
    api, office = cast_api, cast_api.office
    for user in ("retired", *OTHER_ORGANISATION):
        api.token(user)  # issued while the account was active
    deactivate(office, "retired")
    memo_id = bring_to(office, state)
    before = snapshot(office)
    mismatches: list[str] = []
    for user in [*LOGGED_OUT, *OTHER_ORGANISATION]:
        want = api_expected(user)
        for action in ACTIONS:
            if action == "edit":
                response = api.patch(user, f"/api/v1/memos/{memo_id}", options_for(action))
            else:
                response = api.post(
                    user,
                    f"/api/v1/memos/{memo_id}/actions",
                    {"action": action, **options_for(action)},
                )
            if response.status_code != want:
                mismatches.append(f"{user} {action} in {state}: {response.status_code} != {want}")
            else:
                assert response.get_json()["error"]["code"]
        for path in ("", "/audit", "/attachments/1"):
            response = api.get(user, f"/api/v1/memos/{memo_id}{path}")
            if response.status_code != want:
                mismatches.append(f"{user} GET {path or 'memo'}: {response.status_code}")
        if user in OTHER_ORGANISATION:
            assert api.get(user, "/api/v1/memos").get_json()["total"] == 0
            assert api.get(user, "/api/v1/inbox").get_json()["total"] == 0
    assert not mismatches, "\n".join(mismatches)
    assert snapshot(office) == before
    chain_verifies(office)


def test_another_organisations_admin_cannot_open_or_manage_us(cast_api: ApiClient) -> None:
    """An admin is an admin of their own organisation only."""
    api, office = cast_api, cast_api.office
    memo_id = office.submitted(secrecy="secret")
    authorisation_id = office.run(
        lambda s: (
            acting.add_authorisation(
                s,
                None,
                accounts.only_organisation(s, "อบต.ควนขนุน"),
                office.user(s, "officer2"),
                "head_of_office",
                Capacity.on_behalf.value,
                "7/2569",
                date(2026, 11, 1),
                date(2026, 12, 31),
            ).id
        )
    )
    api.token("other_admin")
    before = snapshot(office)
    opened = api.post("other_admin", f"/api/v1/memos/{memo_id}/admin-open", {"reason": "ตรวจ"})
    assert opened.status_code == 404
    refused = api.post(
        "other_admin",
        "/api/v1/acting",
        {
            "username": "officer",
            "step": "mayor",
            "capacity": "ปฏิบัติราชการแทน",
            "order": "1/2569",
            "from": "2026-11-01",
            "to": "2026-12-31",
        },
    )
    assert refused.status_code == 422
    assert "username" in refused.get_json()["error"]["fields"]
    ended = api.post("other_admin", f"/api/v1/acting/{authorisation_id}/end")
    assert ended.status_code == 404
    listed = api.get("other_admin", "/api/v1/acting").get_json()
    assert listed["items"] == []
    assert snapshot(office) == before


def test_admin_pages_refuse_another_organisations_users(
    browser: Callable[[str | None], Browser], cast_office: Office
) -> None:
    office = cast_office
    head_id = office.run(lambda s: office.user(s, "head").id)
    other_admin = browser("other_admin")
    before = snapshot(office)
    assert other_admin.client.get(f"/admin/users/{head_id}").status_code == 404
    for path, data in (
        (f"/admin/users/{head_id}", {"full_name": "x", "position": "y", "role": "officer"}),
        (f"/admin/users/{head_id}/password", {"password": "a-new-password-1"}),
        (f"/admin/users/{head_id}/active", {"active": "0"}),
        (f"/admin/users/{head_id}/tokens", {"label": "stolen"}),
    ):
        response = other_admin.client.post(path, data=data)
        assert response.status_code == 404, (path, response.status_code)
    assert snapshot(office) == before
    for user in ("officer", "head", "mayor"):
        assert browser(user).client.get("/admin/users").status_code == 403, user
