"""Retries are safe and answers tell the truth (issue 18, points 3 and 4; issue 19, point 1).

- A POST sent again with the same ``Idempotency-Key`` (the API) or the same form key (the
  HTML forms) gets the first answer, and acts once.
- The same key with another request is refused (422 ``idempotency_key_reused``).
- The request owns the transaction: a connection that dies after the commit does not turn
  the saved action into "nothing was saved"; one place in webapp/ commits.

Runs on SQLite, and on PostgreSQL with MEMOFLOW_TEST_DATABASE_URL.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from models import AuditEvent, IdempotentRequest, Memo
from tests.conftest import ApiClient, Office, seed_memo_fields
from tests.web.test_web_memos import memo_form
from webapp.db import database

ROOT = Path(__file__).resolve().parents[2]
FORM_KEY = re.compile(r'name="idempotency_key" value="([0-9a-f]{32})"')


def _count(office: Office, model: Any) -> int:
    return int(office.run(lambda s: s.scalar(select(func.count()).select_from(model))))


def _memo_body() -> dict[str, str]:
    fields = seed_memo_fields()
    return {name: fields[name] for name in ("subject", "to", "facts", "proposal")}


def test_a_retried_create_returns_the_first_memo_and_makes_one(
    api: ApiClient, app_office: Office
) -> None:
    key = {"Idempotency-Key": "c5a1f0e2-create-once"}
    first = api.post("officer", "/api/v1/memos", _memo_body(), headers=key)
    again = api.post("officer", "/api/v1/memos", _memo_body(), headers=key)
    assert first.status_code == 201
    assert again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(app_office, Memo) == 1
    # Without a key, each POST is a new request: the same body makes a second memo.
    assert api.post("officer", "/api/v1/memos", _memo_body()).status_code == 201
    assert _count(app_office, Memo) == 2


def test_a_retried_action_returns_the_same_body_and_acts_once(
    api: ApiClient, app_office: Office
) -> None:
    memo_id = app_office.submitted()
    events_before = _count(app_office, AuditEvent)
    key = {"Idempotency-Key": "endorse-17"}
    body = {"action": "endorse", "opinion": "เห็นควรเสนอปลัด"}
    first = api.post("head", f"/api/v1/memos/{memo_id}/actions", body, headers=key)
    again = api.post("head", f"/api/v1/memos/{memo_id}/actions", body, headers=key)
    assert first.status_code == 200, first.get_json()
    assert again.status_code == 200
    assert again.get_data() == first.get_data()
    assert first.get_json()["state"] == "pending_permanent_secretary"
    assert _count(app_office, AuditEvent) == events_before + 1
    assert len(app_office.memo(memo_id).opinions) == 1


def test_the_same_key_with_another_request_is_refused(api: ApiClient, app_office: Office) -> None:
    key = {"Idempotency-Key": "one-key"}
    assert api.post("officer", "/api/v1/memos", _memo_body(), headers=key).status_code == 201
    other = api.post("officer", "/api/v1/memos", _memo_body() | {"subject": "อื่น"}, headers=key)
    assert other.status_code == 422
    error = other.get_json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "ส่งไปแล้ว" in error["message"]
    english = api.post(
        "officer",
        "/api/v1/memos",
        _memo_body() | {"subject": "other"},
        headers=key | {"Accept-Language": "en"},
    )
    assert "already used" in english.get_json()["error"]["message"]
    assert _count(app_office, Memo) == 1


def test_keys_belong_to_their_user(api: ApiClient, app_office: Office) -> None:
    """Two people who happen to choose the same key each get their own memo."""
    key = {"Idempotency-Key": "shared-by-chance"}
    mine = api.post("officer", "/api/v1/memos", _memo_body(), headers=key)
    theirs = api.post("head", "/api/v1/memos", _memo_body(), headers=key)
    assert mine.status_code == theirs.status_code == 201
    assert mine.get_json()["id"] != theirs.get_json()["id"]


def test_a_failed_request_keeps_nothing_and_may_be_sent_again(
    api: ApiClient, app_office: Office
) -> None:
    key = {"Idempotency-Key": "fix-and-resend"}
    refused = api.post("officer", "/api/v1/memos", {"subject": "", "to": "x"}, headers=key)
    assert refused.status_code == 422
    assert _count(app_office, IdempotentRequest) == 0
    # Nothing happened under that key, so the corrected request is not a "reuse".
    assert api.post("officer", "/api/v1/memos", _memo_body(), headers=key).status_code == 201


def test_a_key_that_is_not_usable_is_refused(api: ApiClient, app_office: Office) -> None:
    response = api.post(
        "officer", "/api/v1/memos", _memo_body(), headers={"Idempotency-Key": "x" * 300}
    )
    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["error"]["fields"]
    assert _count(app_office, Memo) == 0


def test_a_double_submitted_form_makes_one_memo(as_user: Any, app_office: Office) -> None:
    officer = as_user("officer")
    page = officer.text("/memos/new")
    key = FORM_KEY.search(page)
    assert key, "the form carries no idempotency key"
    form = memo_form() | {"idempotency_key": key.group(1)}
    first = officer.post("/memos/new", form)
    again = officer.post("/memos/new", form)
    assert first.status_code == again.status_code == 302
    assert again.location == first.location
    assert _count(app_office, Memo) == 1
    # A page shown again has a new key: a second memo written on purpose is made.
    assert FORM_KEY.search(officer.text("/memos/new")).group(1) != key.group(1)  # type: ignore[union-attr]


def test_a_connection_lost_after_the_commit_still_answers_saved(
    app: Any, api: ApiClient, app_office: Office
) -> None:
    """A fault injector cuts the database connection right after the commit of the head's
    endorsement: the answer is the endorsed memo (200), not "nothing was saved" — its
    allowed actions, which need the acting authorisations, were read before the commit —
    and the endorsement is there."""
    engine = database(app).engine
    memo_id = app_office.submitted()
    api.token("head")  # made before the fault is armed
    doomed: list[Any] = []

    def note_connection(session: Session) -> None:
        doomed.append(session.connection().connection.dbapi_connection)

    def cut(_session: Session) -> None:
        connection = doomed.pop()
        if engine.dialect.name == "postgresql":
            pid = connection.info.backend_pid
            with engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                other.commit()
        connection.close()

    sessions = database(app).sessions
    event.listen(sessions, "before_commit", note_connection)
    event.listen(sessions, "after_commit", cut)
    try:
        response = api.act("head", memo_id, "endorse", opinion="เห็นควรเสนอปลัด")
    finally:
        event.remove(sessions, "before_commit", note_connection)
        event.remove(sessions, "after_commit", cut)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["state"] == "pending_permanent_secretary"
    assert app_office.memo(memo_id).state == "pending_permanent_secretary"
    # The server goes on serving with a fresh connection.
    assert api.get("head", f"/api/v1/memos/{memo_id}").status_code == 200


def _commit_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Attribute) and node.func.attr == "commit")
            or (isinstance(node.func, ast.Name) and node.func.id == "commit")
        )
    ]


def test_one_place_in_webapp_commits() -> None:
    """Views and commands never commit; webapp.db's commit point does (a forgotten commit
    in a view lost writes silently before)."""
    found = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "webapp").rglob("*.py"))
        if (lines := _commit_calls(path))
    }
    assert list(found) == ["webapp/db.py"], found
    assert len(found["webapp/db.py"]) == 1
