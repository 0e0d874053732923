"""The read path (inbox, lists, one memo): what the API documents, and what is loaded.

The read endpoints write their JSON straight from webapp.api.serialize instead of letting
marshmallow dump it through the schema named in ``@blp.response``, so nothing but these
tests keeps the body and the OpenAPI document in step: every key the body has, the schema
declares, with the same type, and null only where the document says nullable; every field
the schema declares, the body has.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO
from typing import Any

import marshmallow as ma
from marshmallow import fields
from sqlalchemy import event
from sqlalchemy.orm import Session

from models import Organisation
from tests.conftest import PASSWORD, SEED_MEMO, ApiClient, Office
from webapp.api.schemas import MemoPageSchema, MemoSchema
from workflow import accounts, acting, clock, queries


def assert_documented(schema: ma.Schema, body: dict[str, Any], where: str = "body") -> None:
    """``body`` is exactly what ``schema`` documents, nested schemas included."""
    declared = {field.data_key or name: field for name, field in schema.fields.items()}
    assert set(body) == set(declared), f"{where}: keys differ from {type(schema).__name__}"
    for key, field in declared.items():
        value = body[key]
        if value is None:
            assert field.allow_none, f"{where}.{key} is null, documented as not nullable"
        elif isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            for index, item in enumerate(value):
                assert_documented(field.inner.schema, item, f"{where}.{key}[{index}]")
        elif isinstance(field, fields.Nested):
            assert_documented(field.schema, value, f"{where}.{key}")
    # Dumping converts every value to its field's type: a value of another type changes.
    assert schema.dump(body) == body, f"{where}: a value is not of its documented type"


def _json(api: ApiClient, username: str, path: str) -> dict[str, Any]:
    response = api.get(username, path)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    return body


def _office_with_memos(api: ApiClient) -> dict[str, int]:
    """A draft (no number, no date), memos waiting for the head of office (one urgent and
    confidential), and a signed memo with an attachment."""
    office = api.office
    draft = office.create(subject="ร่าง")
    waiting = office.submitted(subject="รอพิจารณา")
    office.submitted(subject="ด่วน", urgency="urgent", secrecy="confidential")
    signed = office.signed()
    uploaded = api.post(
        "officer",
        f"/api/v1/memos/{draft}/attachments",
        data={"file": (BytesIO("ก,ข\n1,2\n".encode()), "รายงาน.csv")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    return {"draft": draft, "waiting": waiting, "signed": signed}


def test_inbox_and_list_bodies_are_what_the_document_says(api: ApiClient) -> None:
    _office_with_memos(api)
    inbox = _json(api, "head", "/api/v1/inbox")
    assert [m["subject"] for m in inbox["items"]] == ["รอพิจารณา", "ด่วน"]
    listed = _json(api, "officer", "/api/v1/memos")
    assert listed["total"] == 4
    assert any(m["number"] is None for m in listed["items"])  # the draft
    for body in (
        inbox,
        listed,
        _json(api, "officer", "/api/v1/memos?state=signed&page=1"),
        _json(api, "mayor", "/api/v1/inbox"),  # empty
        _json(api, "officer", "/api/v1/memos?page=9"),  # past the last page
    ):
        assert_documented(MemoPageSchema(), body)


def test_memo_body_is_what_the_document_says(api: ApiClient) -> None:
    memos = _office_with_memos(api)
    draft = _json(api, "officer", f"/api/v1/memos/{memos['draft']}")
    assert draft["current_step"] is None and len(draft["attachments"]) == 1
    signed = _json(api, "officer", f"/api/v1/memos/{memos['signed']}")
    assert len(signed["opinions"]) == 3 and signed["opinions"][-1]["decision"] is not None
    for body in (draft, signed, _json(api, "head", f"/api/v1/memos/{memos['waiting']}")):
        assert_documented(MemoSchema(), body)


def test_the_document_still_names_the_schemas(api: ApiClient) -> None:
    """The endpoints return a Response, which flask-smorest passes through; the
    ``@blp.response`` decorator is still what documents them."""
    spec = api.client.get("/api/v1/openapi.json").get_json()
    for path, schema in [
        ("/api/v1/inbox", "MemoPage"),
        ("/api/v1/memos", "MemoPage"),
        ("/api/v1/memos/{memo_id}", "Memo"),
    ]:
        content = spec["paths"][path]["get"]["responses"]["200"]["content"]
        assert content["application/json"]["schema"] == {"$ref": f"#/components/schemas/{schema}"}


# --- what the lists load ------------------------------------------------------------------

BODY = ("background", "facts", "proposal")
SEED_SUBJECT = SEED_MEMO["subject"]


def _statements_run(session: Session, work: Any) -> list[str]:
    """The SQL of every statement ``work()`` sends on ``session``'s connection."""
    sent: list[str] = []
    connection = session.connection()

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(connection, "before_cursor_execute", record)
    return sent


def test_lists_leave_the_memo_bodies_in_the_database(office: Office) -> None:
    """The inbox and the lists read each memo's heading and its author, and no memo text
    (the inbox not even the route snapshot): their statements name no such column, and
    what they hand over has no such attribute to read by mistake."""
    office.create(subject="ร่าง", facts="ข้อเท็จจริงยาว " * 50)
    office.submitted(subject="รอพิจารณา", proposal="ข้อเสนอ")

    def check(session: Session) -> None:
        head, officer = office.user(session, "head"), office.user(session, "officer")
        inbox: list[queries.Page] = []
        listed: list[queries.Page] = []
        sent = _statements_run(session, lambda: inbox.append(queries.inbox(session, head)))
        sent += _statements_run(session, lambda: listed.append(queries.search(session, officer)))
        # The inbox: its page with the count in it; a list: a count and a page.
        assert len(sent) == 3
        for statement in sent:
            assert not any(f"memo.{column}" in statement for column in BODY), statement
        assert "route_snapshot" not in sent[0]
        assert "route_snapshot" in sent[2]  # a list names each memo's state by its step
        assert [m.subject for m in inbox[0].items] == ["รอพิจารณา"]
        assert [m.subject for m in listed[0].items] == ["รอพิจารณา", "ร่าง"]
        for heading in inbox[0].items + listed[0].items:
            assert not any(hasattr(heading, column) for column in BODY)
            assert heading.author.full_name == "นางสาวภรณ์พรรณ บุญเผือก"
        assert inbox[0].items[0].route_snapshot is None
        assert [step["role"] for step in listed[0].items[0].route_snapshot or []] == [
            "head_of_office",
            "permanent_secretary",
            "mayor",
        ]

    office.run(check)


def test_the_list_page_names_the_step_from_the_memos_route_snapshot(
    app: Any, app_office: Office
) -> None:
    """The route snapshot is what the list reads the waiting step's title from: renaming
    the step in the organisation's route afterwards does not rename it for this memo."""
    app_office.submitted(subject="รอพิจารณา")

    def rename_first_step(session: Session) -> None:
        organisation = session.get(Organisation, app_office.organisation_id)
        assert organisation is not None
        route = [dict(step) for step in organisation.route]
        route[0]["title"] = "ผู้อำนวยการกอง"
        organisation.route = route

    app_office.run(rename_first_step)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    login = client.post("/login", data={"username": "officer", "password": PASSWORD})
    assert login.status_code == 302
    for path in ("/memos", "/memos/mine"):
        html = client.get(path).get_data(as_text=True)
        assert '<span class="state state-pending">รอหัวหน้าสำนักปลัดพิจารณา</span>' in html, path
        assert "รอผู้อำนวยการกองพิจารณา</option>" in html, path  # the filter: today's route
    client.post("/logout")
    login = client.post("/login", data={"username": "head", "password": PASSWORD})
    inbox = client.get("/").get_data(as_text=True)
    assert "รอพิจารณา" in inbox and 'class="memo-item"' in inbox


# --- the inbox's prebuilt statements ------------------------------------------------------


def test_inbox_pages_oldest_first_and_counts_with_the_same_rows(office: Office) -> None:
    """The inbox runs statements built once with parameters: each user, page and size
    gets its own rows and count."""
    waiting = [office.submitted(subject=f"เรื่อง {n}") for n in range(5)]
    office.act("head", "endorse", waiting[0], opinion="เห็นควร")  # now the palad's

    def pages(username: str, size: int) -> list[list[int]]:
        def work(session: Session) -> list[list[int]]:
            user = office.user(session, username)
            first = queries.inbox(session, user, page=1, size=size)
            assert first.total == queries.inbox_count(session, user)
            return [
                [m.id for m in queries.inbox(session, user, page=n, size=size).items]
                for n in range(1, first.pages + 2)  # and one past the last
            ]

        result: list[list[int]] = office.run(work)
        return result

    assert pages("head", 2) == [waiting[1:3], waiting[3:5], []]
    assert pages("palad", 20) == [[waiting[0]], []]
    assert pages("mayor", 20) == [[], []]
    assert office.run(lambda s: queries.inbox(s, office.user(s, "head"), page=0).page) == 1


def test_inbox_query_compiles_with_its_values(office: Office) -> None:
    """benchmarks/scaling.py compiles ``inbox_query`` with literal values to EXPLAIN it."""
    office.submitted()

    def sql(session: Session) -> str:
        query = queries.inbox_query(session, office.user(session, "head"))
        assert [row.subject for row in session.execute(query)] == [SEED_SUBJECT]
        dialect = session.get_bind().dialect
        return str(query.limit(20).compile(dialect=dialect, compile_kwargs={"literal_binds": True}))

    text = office.run(sql)
    assert f"memo.organisation_id = {office.organisation_id}" in text
    assert "memo.pending_role IN ('head_of_office')" in text


# --- the API inbox's caller as a row ------------------------------------------------------


def test_api_inbox_items_are_the_memos_own_summaries(api: ApiClient) -> None:
    """The inbox writes its items straight from rows (serialize.heading_row_json): each
    is what the memo's own JSON says of it (serialize.memo_summary_json)."""
    _office_with_memos(api)
    items = _json(api, "head", "/api/v1/inbox")["items"]
    assert len(items) == 2
    for item in items:
        memo = _json(api, "head", f"/api/v1/memos/{item['id']}")
        assert item == {key: memo[key] for key in item}


def test_api_inbox_follows_an_authorisation_to_act(api: ApiClient) -> None:
    """The API inbox finds its caller as a row (accounts.Reader) and, on a day when an
    authorisation to act is in force, the roles they act for: the acting head of office
    finds the absent permanent secretary's memo; the day after it ends, the holder does."""
    office = api.office
    with clock.frozen(datetime(2026, 11, 25, 5, 0, tzinfo=UTC)):  # noon in Bangkok
        memo_id = office.submitted()
        office.act("head", "endorse", memo_id, opinion="เห็นควรเสนอ")

        def authorise(session: Session) -> None:
            acting.add_authorisation(
                session,
                None,
                accounts.only_organisation(session),
                office.user(session, "head"),
                "permanent_secretary",
                "รักษาราชการแทน",
                "คำสั่งที่ 1/2569",
                date(2026, 11, 20),
                date(2026, 11, 30),
            )

        office.run(authorise)
        assert [m["id"] for m in _json(api, "head", "/api/v1/inbox")["items"]] == [memo_id]
        assert _json(api, "palad", "/api/v1/inbox")["total"] == 0
    with clock.frozen(datetime(2026, 12, 1, 5, 0, tzinfo=UTC)):
        assert _json(api, "head", "/api/v1/inbox")["total"] == 0
        assert [m["id"] for m in _json(api, "palad", "/api/v1/inbox")["items"]] == [memo_id]
