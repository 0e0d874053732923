"""The inbox and the lists cost the same number of SQL statements for 1 memo as for 15."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from tests.conftest import Office
from webapp.db import database


@contextmanager
def counting(app: Any) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = database(app).engine

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def statements_for(web: Any, app: Any, path: str) -> int:
    with counting(app) as statements:
        response = web.get(path)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize(
    ("viewer", "path"),
    [("head", "/"), ("head", "/memos"), ("officer", "/memos/mine"), ("officer", "/memos")],
)
def test_no_query_per_memo(
    as_user: Any, app_office: Office, web_app: Any, viewer: str, path: str
) -> None:
    app_office.submitted(urgency="urgent")
    web = as_user(viewer)
    one = statements_for(web, web_app, path)
    for n in range(14):
        app_office.submitted(subject=f"เรื่องที่ {n}", secrecy="confidential" if n % 3 else "normal")
    fifteen = statements_for(web, web_app, path)
    html = web.get(path).get_data(as_text=True)
    assert html.count('class="memo-item"') == 15
    assert fifteen == one, f"{path}: {one} statements for 1 memo, {fifteen} for 15"
