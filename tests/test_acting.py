"""Acting for others: an authorisation lets someone act at another role's step in a legal
capacity, for a period of calendar days; the record keeps both people."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import event, text

from tests.conftest import ApiClient, Office
from workflow import accounts, acting, audit, clock, queries
from workflow.errors import AlreadyDecided, NotAllowed, ValidationFailed

# 2026-11-25 12:00 in Bangkok.
NOON = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
ORDER = "คำสั่ง อบต.ควนขนุน ที่ 12/2569"
PALAD_TITLE = "ปลัดองค์การบริหารส่วนตำบลควนขนุน"
MAYOR_TITLE = "นายกองค์การบริหารส่วนตำบลควนขนุน"
REFUSED = (NotAllowed, AlreadyDecided)


def authorise(
    office: Office,
    username: str,
    role: str,
    capacity: str,
    valid_from: date = date(2026, 11, 20),
    valid_to: date = date(2026, 11, 30),
) -> int:
    def work(session: Any) -> int:
        organisation = accounts.only_organisation(session)
        user = office.user(session, username)
        return acting.add_authorisation(
            session, None, organisation, user, role, capacity, ORDER, valid_from, valid_to
        ).id

    return int(office.run(work))


@pytest.fixture(autouse=True)
def at_noon() -> Any:
    with clock.frozen(NOON):
        yield


def test_acting_for_an_absent_secretary_endorses_at_both_steps(office: Office) -> None:
    authorise(office, "head", "permanent_secretary", "รักษาราชการแทน")
    memo_id = office.submitted()
    office.act("head", "endorse", memo_id, opinion="เห็นควรเสนอ")
    # The absent holder may not act while รักษาราชการแทน is in force, and is told who may.
    with pytest.raises(NotAllowed) as refused:
        office.act("palad", "endorse", memo_id, opinion="เห็นควร")
    assert refused.value.params["may_act"] == (f"นางสาวสุพัตรา ชูกลิ่น (รักษาราชการแทน{PALAD_TITLE})")
    in_box = office.run(lambda s: [m.id for m in queries.inbox(s, office.user(s, "head")).items])
    assert in_box == [memo_id]
    assert office.run(lambda s: queries.inbox(s, office.user(s, "palad")).total) == 0

    office.act("head", "endorse", memo_id, opinion="เห็นควรทราบ (ทำการแทน)")
    office.act("mayor", "sign", memo_id, decision="acknowledged")
    opinions = office.memo(memo_id).opinions
    assert [(o.step, o.actor_name, o.capacity, o.acting_for, o.order_ref) for o in opinions] == [
        ("head_of_office", "นางสาวสุพัตรา ชูกลิ่น", None, None, None),
        ("permanent_secretary", "นางสาวสุพัตรา ชูกลิ่น", "รักษาราชการแทน", PALAD_TITLE, ORDER),
        ("mayor", "นายวินัย มูสิกะเจริญ", None, None, None),
    ]
    report = office.run(audit.verify)
    assert report.ok, report.problems


def test_on_behalf_signing_leaves_the_holder_able_to_act(office: Office) -> None:
    authorise(office, "palad", "mayor", "ปฏิบัติราชการแทน")
    first, second = office.submitted(), office.submitted()
    for memo_id in (first, second):
        office.act("head", "endorse", memo_id, opinion="เห็นควร")
        office.act("palad", "endorse", memo_id, opinion="เห็นควร")
    assert office.act("palad", "sign", first, decision="approved", opinion="อนุมัติ") == "signed"
    assert office.act("mayor", "sign", second, decision="approved") == "signed"
    signed_for = office.memo(first).opinions[-1]
    assert (signed_for.actor_position, signed_for.capacity, signed_for.acting_for) == (
        PALAD_TITLE,
        "ปฏิบัติราชการแทน",
        MAYOR_TITLE,
    )
    assert office.memo(second).opinions[-1].capacity is None


def test_outside_the_period_the_authorisation_has_no_effect(office: Office) -> None:
    authorise(
        office,
        "head",
        "permanent_secretary",
        "ปฏิบัติราชการแทน",
        date(2026, 11, 26),
        date(2026, 11, 27),
    )
    memo_id = office.submitted()
    office.act("head", "endorse", memo_id, opinion="เห็นควร")
    # Refused: 403, or 409 because the head's own step of this round is already decided.
    with pytest.raises(REFUSED):  # 25 November: not yet
        office.act("head", "endorse", memo_id, opinion="ก่อนกำหนด")
    # 27 Nov 23:30 Bangkok is 16:30 UTC: still the last day of the period.
    with clock.frozen(datetime(2026, 11, 27, 16, 30, tzinfo=UTC)):
        state = office.act("head", "endorse", memo_id, opinion="วันสุดท้าย")
    assert state == "pending_mayor"
    other = office.submitted()
    office.act("head", "endorse", other, opinion="เห็นควร")
    with clock.frozen(datetime(2026, 11, 27, 17, 30, tzinfo=UTC)), pytest.raises(REFUSED):
        office.act("head", "endorse", other, opinion="หมดอายุแล้ว")  # 28 Nov in Bangkok


def test_ending_early_takes_effect_at_once(office: Office) -> None:
    authorisation_id = authorise(office, "head", "permanent_secretary", "รักษาราชการแทน")
    memo_id = office.submitted()
    office.act("head", "endorse", memo_id, opinion="เห็นควร")
    office.run(lambda s: acting.end_authorisation(s, None, authorisation_id))
    with pytest.raises(REFUSED):
        office.act("head", "endorse", memo_id, opinion="สิ้นสุดแล้ว")
    assert office.act("palad", "endorse", memo_id, opinion="กลับมาแล้ว") == "pending_mayor"
    assert office.run(audit.verify).ok


def test_ending_the_longest_authorisation_leaves_the_others_in_force(office: Office) -> None:
    """The organisation remembers the last day any authorisation runs to, so that a day
    without any skips the lookup; ending the longest one must not hide the others."""
    short = authorise(office, "head", "permanent_secretary", "ปฏิบัติราชการแทน")
    longest = authorise(
        office, "palad", "mayor", "ปฏิบัติราชการแทน", date(2026, 11, 20), date(2026, 12, 31)
    )
    office.run(lambda s: acting.end_authorisation(s, None, longest))
    memo_id = office.submitted()
    office.act("head", "endorse", memo_id, opinion="เห็นควร")
    assert office.act("head", "endorse", memo_id, opinion="แทนปลัด") == "pending_mayor"
    with pytest.raises(REFUSED):
        office.act("palad", "sign", memo_id, decision="approved", opinion="สิ้นสุดแล้ว")
    office.run(lambda s: acting.end_authorisation(s, None, short))
    assert office.run(lambda s: accounts.only_organisation(s).acting_until) is None


def test_without_authorisations_no_authorisation_query_is_made(office: Office, engine: Any) -> None:
    """The everyday case: nobody acts for anybody, so an inbox and a decision do not ask
    the authorisation table at all; an authorisation that has run out counts as none."""
    authorise(office, "head", "mayor", "ปฏิบัติราชการแทน", date(2026, 11, 1), date(2026, 11, 24))
    memo_id = office.submitted()
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        office.run(lambda s: queries.inbox(s, office.user(s, "head")))
        office.act("head", "endorse", memo_id, opinion="เห็นควร")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements, "the listener saw nothing"
    assert not [sql for sql in statements if "acting_authorisation" in sql]


def test_overlapping_and_circular_authorisations_are_refused(office: Office) -> None:
    authorise(office, "head", "permanent_secretary", "รักษาราชการแทน")
    with pytest.raises(ValidationFailed) as overlap:
        authorise(
            office,
            "officer",
            "permanent_secretary",
            "ปฏิบัติราชการแทน",
            date(2026, 11, 29),
            date(2026, 12, 5),
        )
    assert overlap.value.errors == {"role": "overlapping"}
    with pytest.raises(ValidationFailed) as circular:
        authorise(office, "palad", "head_of_office", "รักษาการในตำแหน่ง")
    assert circular.value.errors == {"role": "circular"}
    # The same in a period that does not overlap is fine.
    authorise(
        office, "palad", "head_of_office", "รักษาการในตำแหน่ง", date(2026, 12, 1), date(2026, 12, 3)
    )
    with pytest.raises(ValidationFailed) as backwards:
        authorise(office, "officer", "mayor", "ปฏิบัติราชการแทน", date(2026, 12, 3), date(2026, 12, 1))
    assert backwards.value.errors == {"period": "before_from"}


@pytest.mark.parametrize(
    ("capacity", "lines"),
    [
        ("ปฏิบัติราชการแทน", ["(นายเศรษฐา ชูดำ)", f"{PALAD_TITLE} ปฏิบัติราชการแทน", MAYOR_TITLE]),
        ("รักษาราชการแทน", ["(นายเศรษฐา ชูดำ)", f"{PALAD_TITLE} รักษาราชการแทน", MAYOR_TITLE]),
        ("รักษาการในตำแหน่ง", ["(นายเศรษฐา ชูดำ)", f"{PALAD_TITLE} รักษาการในตำแหน่ง", MAYOR_TITLE]),
    ],
)
def test_printed_wording_for_each_capacity(capacity: str, lines: list[str]) -> None:
    assert acting.signature_lines("นายเศรษฐา ชูดำ", PALAD_TITLE, capacity, MAYOR_TITLE) == lines
    assert acting.signature_lines("นายเศรษฐา ชูดำ", PALAD_TITLE) == [
        "(นายเศรษฐา ชูดำ)",
        PALAD_TITLE,
    ]


def test_verification_covers_the_acting_fields(office: Office) -> None:
    authorise(office, "head", "permanent_secretary", "รักษาราชการแทน")
    memo_id = office.submitted()
    office.act("head", "endorse", memo_id, opinion="เห็นควร")
    office.act("head", "endorse", memo_id, opinion="เห็นควร")
    assert office.run(audit.verify).ok
    office.run(
        lambda s: s.execute(
            text("UPDATE opinion SET capacity = 'ปฏิบัติราชการแทน' WHERE step = 'permanent_secretary'")
        )
    )
    report = office.run(audit.verify)
    assert any("opinions differ" in p for p in report.problems)


def test_delegated_actions_through_the_api(api: ApiClient) -> None:
    body = {
        "username": "head",
        "step": "permanent_secretary",
        "capacity": "รักษาราชการแทน",
        "order": ORDER,
        "from": "2026-11-20",
        "to": "2026-11-30",
    }
    assert api.post("head", "/api/v1/acting", body).status_code == 403
    created = api.post("admin", "/api/v1/acting", body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["in_force"] is True
    again = api.post("admin", "/api/v1/acting", body)
    assert again.status_code == 422
    assert again.get_json()["error"]["fields"]["role"].startswith("มีผู้ได้รับมอบหมาย")

    memo_id = api.office.submitted()
    assert api.act("head", memo_id, "endorse", opinion="เห็นควร").status_code == 200
    inbox = api.get("head", "/api/v1/inbox").get_json()
    assert [m["id"] for m in inbox["items"]] == [memo_id]
    refused = api.act("palad", memo_id, "endorse", opinion="เห็นควร")
    assert refused.status_code == 403
    acted = api.act("head", memo_id, "endorse", opinion="เห็นควรทราบ")
    assert acted.status_code == 200
    opinion = acted.get_json()["opinions"][-1]
    assert (opinion["by"]["name"], opinion["capacity"], opinion["acting_for"]) == (
        "นางสาวสุพัตรา ชูกลิ่น",
        "รักษาราชการแทน",
        PALAD_TITLE,
    )
    events = api.get("officer", f"/api/v1/memos/{memo_id}/audit").get_json()["events"]
    assert events[-1]["actor"]["name"] == "นางสาวสุพัตรา ชูกลิ่น"
    assert events[-1]["details"]["capacity"] == "รักษาราชการแทน"
    assert events[-1]["details"]["acting_for"] == PALAD_TITLE

    listed = api.get("admin", "/api/v1/acting").get_json()["items"]
    ended = api.post("admin", f"/api/v1/acting/{listed[0]['id']}/end")
    assert ended.status_code == 200 and ended.get_json()["in_force"] is False


def test_acting_command_line(app: Any, api: ApiClient) -> None:
    runner = app.test_cli_runner()
    added = runner.invoke(
        args=[
            "acting",
            "add",
            "palad",
            "--for",
            "mayor",
            "--capacity",
            "ปฏิบัติราชการแทน",
            "--order",
            ORDER,
            "--from",
            "2026-11-01",
            "--to",
            "2026-12-31",
        ]
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(args=["acting", "list"]).output
    assert "palad\tmayor\tปฏิบัติราชการแทน" in listed and "in force" in listed
    authorisation_id = listed.split("\t")[0]
    assert runner.invoke(args=["acting", "end", authorisation_id]).exit_code == 0
    assert "ended" in runner.invoke(args=["acting", "list"]).output
    bad = runner.invoke(
        args=[
            "acting",
            "add",
            "palad",
            "--for",
            "mayor",
            "--capacity",
            "แทน",
            "--order",
            ORDER,
            "--from",
            "2026-11-01",
            "--to",
            "2026-12-31",
        ]
    )
    assert bad.exit_code == 1 and "capacity" in bad.output
