"""Secret memos (ลับ, ลับมาก, ลับที่สุด) on every surface: the HTML pages, the lists and
their search, the inbox count in the navigation bar, attachments, the audit trail, the
API, and any other page about one memo (print, PDF, verify: every GET route with a
``memo_id`` is found in the URL map, so a page added later is covered too).

For anyone off the memo's route the memo does not exist: 404, not listed, not found by
subject or number, not counted. Someone acting for a route role sees it while the
authorisation is in force, and no longer once it is ended.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from io import BytesIO
from typing import Any

import pytest

from models import Capacity
from tests.conftest import ApiClient
from tests.security.conftest import Browser, chain_verifies, snapshot
from workflow import accounts, acting, actions

SECRET_CLASSES = ["confidential", "secret", "top_secret"]
SUBJECT = "เรื่องลับ: ผลการสอบสวนวินัยร้ายแรง นายทดสอบ"
SEARCH_WORD = "สอบสวนวินัย"
LEAK = "ร้ายแรง นายทดสอบ"  # in the subject, never in a query: its presence is a leak
OFF_ROUTE = ["officer2", "admin", "other_officer", "other_mayor", "other_admin"]
ON_ROUTE = ["officer", "head", "palad", "mayor"]
RESULT_COUNT = re.compile(r'class="result-count">([^<]*)<')
INBOX_COUNT = re.compile(r'id="inbox-count"[^>]*>([^<]*)<')
CSV = "มาตรการ,ผล\nลับ,ลับมาก\n".encode()


def memo_paths(app: Any, memo_id: int, attachment_id: int) -> list[str]:
    """Every GET path about this memo, pages and API alike, from the URL map."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or "memo_id" not in rule.arguments:
            continue
        values = {"memo_id": memo_id, "attachment_id": attachment_id}
        paths.append(rule.build({k: v for k, v in values.items() if k in rule.arguments})[1])
    return sorted(paths)


def views_of(
    browser: Browser, api: ApiClient, username: str, leaks: tuple[str, ...] = (LEAK,)
) -> dict[str, Any]:
    """What a person sees of the lists (the counts), checking no text in ``leaks`` shows."""
    seen: dict[str, Any] = {}
    for path in (
        "/memos",
        f"/memos?q={SEARCH_WORD}",
        "/memos?q=72001",
        "/memos?state=pending_head_of_office",
        "/memos?state=pending_mayor",
        "/memos/mine",
    ):
        html = browser.html(path)
        assert not any(leak in html for leak in leaks), (username, path)
        seen[path] = RESULT_COUNT.findall(html)
    home = browser.client.get("/")
    html = home.get_data(as_text=True)
    assert not any(leak in html for leak in leaks)
    seen["inbox-count"] = INBOX_COUNT.findall(html) if home.status_code == 200 else home.location
    for path in ("/api/v1/memos", f"/api/v1/memos?q={SEARCH_WORD}", "/api/v1/inbox"):
        body = api.get(username, path).get_json()
        assert not any(leak in str(body) for leak in leaks)
        seen[path] = body["total"]
    return seen


@pytest.mark.parametrize("secrecy", SECRET_CLASSES)
def test_a_secret_memo_does_not_exist_off_its_route(
    app: Any,
    browser: Callable[[str | None], Browser],
    cast_api: ApiClient,
    secrecy: str,
) -> None:
    api, office = cast_api, cast_api.office
    office.submitted(subject="เรื่องปกติ ไม่ลับ")  # something for the admin to see
    browsers = {user: browser(user) for user in OFF_ROUTE + ON_ROUTE}
    baseline = {user: views_of(browsers[user], api, user) for user in OFF_ROUTE}

    memo_id = office.create(subject=SUBJECT, secrecy=secrecy)
    attachment_id = office.run(
        lambda s: actions.add_attachment(s, memo_id, office.user(s, "officer"), "ลับ.csv", CSV).id
    )
    paths = memo_paths(app, memo_id, attachment_id)
    assert f"/memos/{memo_id}" in paths and f"/api/v1/memos/{memo_id}/audit" in paths
    office.act("officer", "submit", memo_id)
    number = office.memo(memo_id).number
    assert number
    leaks = (LEAK, number)
    for step_user in (None, "head", "palad"):
        if step_user:
            office.act(step_user, "endorse", memo_id, opinion="เห็นควร (ลับ)")
        before = snapshot(office)
        for user in OFF_ROUTE:
            assert views_of(browsers[user], api, user, leaks) == baseline[user], user
            for path in paths:
                if path.startswith("/api/"):
                    response = api.get(user, path)
                else:
                    response = browsers[user].client.get(path)
                assert response.status_code == 404, (user, path, response.status_code)
                assert LEAK not in response.get_data(as_text=True)
            posted = browsers[user].client.post(
                f"/memos/{memo_id}", data={"action": "sign", "decision": "approved"}
            )
            assert posted.status_code == 404, user
        assert snapshot(office) == before
    for user in ON_ROUTE:
        page = browsers[user].client.get(f"/memos/{memo_id}")
        assert page.status_code == 200 and SUBJECT in page.get_data(as_text=True), user
        download = browsers[user].client.get(f"/memos/{memo_id}/attachments/{attachment_id}")
        assert download.status_code == 200 and download.data == CSV
    chain_verifies(office)


def test_a_secret_draft_is_seen_by_its_author_alone(
    browser: Callable[[str | None], Browser], cast_api: ApiClient
) -> None:
    memo_id = cast_api.office.create(subject=SUBJECT, secrecy="top_secret")
    for user in ("head", "palad", "mayor", "admin", "officer2"):
        assert browser(user).client.get(f"/memos/{memo_id}").status_code == 404, user
        assert cast_api.get(user, f"/api/v1/memos/{memo_id}").status_code == 404, user
    assert browser("officer").client.get(f"/memos/{memo_id}").status_code == 200


def test_acting_for_a_route_role_opens_a_secret_memo_until_the_authorisation_ends(
    browser: Callable[[str | None], Browser], cast_api: ApiClient
) -> None:
    api, office = cast_api, cast_api.office
    memo_id = office.submitted(subject=SUBJECT, secrecy="secret")
    office.act("head", "endorse", memo_id, opinion="เห็นควร")
    office.act("palad", "endorse", memo_id, opinion="เห็นควร")
    clerk = browser("officer2")
    assert clerk.client.get(f"/memos/{memo_id}").status_code == 404
    authorisation_id = office.run(
        lambda s: (
            acting.add_authorisation(
                s,
                None,
                accounts.only_organisation(s, "อบต.ควนขนุน"),
                office.user(s, "officer2"),
                "mayor",
                Capacity.acting_head.value,
                "12/2569",
                date(2026, 11, 1),
                date(2026, 12, 31),
            ).id
        )
    )
    page = clerk.client.get(f"/memos/{memo_id}")
    assert page.status_code == 200 and SUBJECT in page.get_data(as_text=True)
    assert LEAK in clerk.html(f"/memos?q={SEARCH_WORD}")
    assert INBOX_COUNT.findall(clerk.html("/")) == ["1"]
    assert api.get("officer2", f"/api/v1/memos/{memo_id}/audit").status_code == 200
    # While the mayor is away (รักษาราชการแทน), the mayor still sees the memo but the
    # acting clerk decides.
    assert api.get("mayor", f"/api/v1/memos/{memo_id}").status_code == 200
    office.run(lambda s: acting.end_authorisation(s, None, authorisation_id))
    assert clerk.client.get(f"/memos/{memo_id}").status_code == 404
    assert LEAK not in clerk.html(f"/memos?q={SEARCH_WORD}")
    assert INBOX_COUNT.findall(clerk.html("/")) == ["0"]
    assert api.get("officer2", f"/api/v1/memos/{memo_id}").status_code == 404
    chain_verifies(office)


def test_admin_opens_a_secret_memo_only_through_the_audited_action(
    browser: Callable[[str | None], Browser], cast_api: ApiClient
) -> None:
    """No page opens it for an admin; the API's admin-open does, with a reason that lands
    in the audit chain, and opening it changes nothing about the memo."""
    api, office = cast_api, cast_api.office
    memo_id = office.submitted(subject=SUBJECT, secrecy="top_secret")
    admin = browser("admin")
    assert admin.client.get(f"/memos/{memo_id}").status_code == 404
    memo_before = office.memo(memo_id)
    opened = api.post("admin", f"/api/v1/memos/{memo_id}/admin-open", {"reason": "คำสั่งศาล 1/2569"})
    assert opened.status_code == 200 and opened.get_json()["subject"] == SUBJECT
    memo_after = office.memo(memo_id)
    assert (memo_after.state, memo_after.version) == (memo_before.state, memo_before.version)
    events = api.get("officer", f"/api/v1/memos/{memo_id}/audit").get_json()["events"]
    assert events[-1]["action"] == "admin_open" and events[-1]["verified"]
    # Opening once is not a key: the pages and the plain API still say 404.
    assert admin.client.get(f"/memos/{memo_id}").status_code == 404
    assert api.get("admin", f"/api/v1/memos/{memo_id}").status_code == 404
    for user in ("head", "officer2"):
        refused = api.post(user, f"/api/v1/memos/{memo_id}/admin-open", {"reason": "ดู"})
        assert refused.status_code in (403, 404), user
    chain_verifies(office)


def test_secret_attachment_is_not_reachable_by_guessing_ids(
    browser: Callable[[str | None], Browser], cast_api: ApiClient
) -> None:
    """An attachment id of a secret memo, asked for under a memo the caller may see,
    is not served: attachments are looked up through their own memo."""
    office = cast_api.office
    secret = office.create(subject=SUBJECT, secrecy="secret")
    attachment_id = office.run(
        lambda s: actions.add_attachment(s, secret, office.user(s, "officer"), "ลับ.csv", CSV).id
    )
    office.act("officer", "submit", secret)
    visible = office.create("officer2", subject="เรื่องของเจ้าหน้าที่คนที่สอง")
    clerk = browser("officer2")
    assert clerk.client.get(f"/memos/{visible}").status_code == 200
    leaked = clerk.client.get(f"/memos/{visible}/attachments/{attachment_id}")
    assert leaked.status_code == 404
    by_api = cast_api.get("officer2", f"/api/v1/memos/{visible}/attachments/{attachment_id}")
    assert by_api.status_code == 404
    upload = clerk.client.post(
        f"/memos/{secret}/attachments",
        data={"file": (BytesIO(CSV), "x.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 404
