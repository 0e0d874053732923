"""A list counts the memos found up to a limit, then says "more than": counting every memo
an office ever wrote would make each list page slower as the history grows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ApiClient, Office
from workflow import queries

LIMIT = 21  # just past one page of 20


@pytest.fixture
def found(app_office: Office, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """23 memos the head of office may see, with the count stopping at 21."""
    monkeypatch.setattr(queries, "COUNT_LIMIT", LIMIT)
    return [app_office.submitted(subject=f"เรื่องที่ {n}") for n in range(23)]


def test_api_list_says_the_count_was_capped(api: ApiClient, found: list[int]) -> None:
    first = api.get("head", "/api/v1/memos").get_json()
    assert (first["total"], first["total_capped"], first["pages"]) == (LIMIT, True, 2)
    assert [item["id"] for item in first["items"]] == found[::-1][:20]
    second = api.get("head", "/api/v1/memos?page=2").get_json()
    assert [item["id"] for item in second["items"]] == found[::-1][20:]


def test_api_list_under_the_limit_is_exact(api: ApiClient, found: list[int]) -> None:
    body = api.get("head", "/api/v1/memos?q=เรื่องที่ 1").get_json()
    # เรื่องที่ 1 and 10 to 19: a count under the limit is the count.
    assert (body["total"], body["total_capped"], body["pages"]) == (11, False, 1)


def test_list_page_says_more_than_and_pages_on(as_user: Any, found: list[int]) -> None:
    web = as_user("head")
    first = web.text("/memos")
    assert f"พบมากกว่า {LIMIT} เรื่อง" in first
    assert "หน้า 1 จากมากกว่า 2 หน้า" in first
    assert 'rel="next"' in first
    last = web.text("/memos?page=2")
    assert last.count('class="memo-item"') == 3
    assert 'rel="next"' not in last and 'rel="prev"' in last
    exact = web.text("/memos?q=เรื่องที่ 5")
    assert "พบ 1 เรื่อง" in exact and "มากกว่า" not in exact
