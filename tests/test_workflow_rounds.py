"""Rounds, numbers, routes and text: return and resubmit, withdraw, skipped steps, custom
routes, route edits, the calendar-year restart of numbers and exact Thai text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from models import RegisterEntry
from tests.conftest import PASSWORD, Office
from workflow import accounts, admin, audit, clock
from workflow.errors import ValidationFailed
from workflow.route import ROUTES_DIR, load_route_file


def test_return_and_resubmit_keeps_history_and_number(office: Office) -> None:
    memo_id = office.submitted()
    number = office.memo(memo_id).number
    office.act("head", "endorse", memo_id, opinion="เห็นควรเสนอ")
    assert office.act("palad", "return", memo_id, opinion="ขอให้แนบรายงาน") == "returned"
    returned = office.memo(memo_id)
    assert returned.round == 2 and returned.pending_role is None

    office.act("officer", "edit", memo_id, facts="ข้อเท็จจริงที่แก้ไขแล้ว")
    assert office.act("officer", "submit", memo_id) == "pending_head_of_office"
    office.act("head", "endorse", memo_id, opinion="เห็นควรเสนออีกครั้ง")
    office.act("palad", "endorse", memo_id, opinion="เห็นควรทราบ")
    assert office.act("mayor", "sign", memo_id, decision="approved") == "signed"

    memo = office.memo(memo_id)
    assert memo.number == number == "พท 72001/1"
    assert [(o.round, o.step, o.action) for o in memo.opinions] == [
        (1, "head_of_office", "endorse"),
        (1, "permanent_secretary", "return"),
        (2, "head_of_office", "endorse"),
        (2, "permanent_secretary", "endorse"),
        (2, "mayor", "sign"),
    ]
    assert memo.opinions[1].text == "ขอให้แนบรายงาน"
    assert office.run(lambda s: audit.verify(s).ok)


def test_withdraw_cancels_the_number_and_it_is_never_reused(office: Office) -> None:
    first = office.submitted()
    assert office.act("officer", "withdraw", first) == "withdrawn"
    second = office.submitted()
    assert office.memo(first).number == "พท 72001/1"
    assert office.memo(second).number == "พท 72001/2"
    entries = office.run(
        lambda s: [
            (e.sequence, e.memo_id, e.status)
            for e in s.execute(select(RegisterEntry).order_by(RegisterEntry.sequence)).scalars()
        ]
    )
    assert entries == [(1, first, "cancelled"), (2, second, "issued")]
    draft = office.create()
    office.act("officer", "withdraw", draft)
    assert office.memo(draft).number is None


def test_a_step_the_author_holds_is_skipped(office: Office) -> None:
    memo_id = office.submitted("head")
    memo = office.memo(memo_id)
    assert memo.state == "pending_permanent_secretary"
    assert [step["key"] for step in memo.route_snapshot or []] == ["permanent_secretary", "mayor"]
    office.act("palad", "endorse", memo_id, opinion="เห็นควรอนุมัติ")
    assert office.act("mayor", "sign", memo_id, decision="approved") == "signed"


def _municipality(office: Office) -> None:
    def setup(session: Any) -> None:
        organisation = accounts.create_organisation(
            session,
            name="เทศบาลตำบลตัวอย่าง",
            number_prefix="ชม 52101",
            route=load_route_file(ROUTES_DIR / "municipality.json"),
        )
        for username, name, position, role in [
            ("clerk", "นางสาวมาลี ดีงาม", "เจ้าพนักงานธุรการ", "officer"),
            ("director", "นายสมศักดิ์ รักงาน", "ผู้อำนวยการกองช่าง", "division_director"),
            ("deputy", "นางวันดี มีสุข", "รองปลัดเทศบาล", "deputy_clerk"),
            ("clerk_head", "นายประยุทธ ทำดี", "ปลัดเทศบาล", "municipal_clerk"),
            ("town_mayor", "นายสมหมาย ใจงาม", "นายกเทศมนตรีตำบลตัวอย่าง", "mayor"),
        ]:
            accounts.add_user(session, organisation, username, name, position, role, PASSWORD)

    office.run(setup)


def test_a_custom_four_step_route_runs_end_to_end(office: Office) -> None:
    _municipality(office)
    memo_id = office.submitted("clerk", to="นายกเทศมนตรีตำบลตัวอย่าง")
    memo = office.memo(memo_id)
    assert memo.number == "ชม 52101/1"  # its own register, not the อบต.'s
    assert memo.state == "pending_division_director"
    for username, next_state in [
        ("director", "pending_deputy_clerk"),
        ("deputy", "pending_municipal_clerk"),
        ("clerk_head", "pending_mayor"),
    ]:
        assert office.act(username, "endorse", memo_id, opinion="เห็นควร") == next_state
    # The อบต.'s mayor holds a role called "mayor" too, but in another organisation.
    with pytest.raises(Exception) as refused:
        office.act("mayor", "sign", memo_id, decision="approved")
    assert type(refused.value).__name__ == "NotFound"
    assert office.act("town_mayor", "sign", memo_id, decision="approved") == "signed"
    assert office.run(lambda s: audit.verify(s).ok)


def test_editing_a_route_affects_later_submissions_only(office: Office) -> None:
    under_way = office.submitted()

    def shorten(session: Any) -> None:
        organisation = accounts.only_organisation(session)
        route = load_route_file(ROUTES_DIR / "default.json", organisation.name)
        from workflow.route import Route

        admin.set_route(session, None, organisation, Route(route.steps[1:]))

    office.run(shorten)
    later = office.submitted()
    assert office.memo(under_way).state == "pending_head_of_office"
    assert office.memo(later).state == "pending_permanent_secretary"
    office.act("head", "endorse", under_way, opinion="เห็นควร")
    assert office.memo(under_way).state == "pending_permanent_secretary"
    assert office.run(lambda s: audit.verify(s).ok)


def test_numbers_restart_on_the_first_of_january_bangkok_time(office: Office) -> None:
    # 31 Dec 2026 23:50 in Bangkok is 16:50 UTC; 00:10 on 1 Jan 2027 is 17:10 UTC.
    with clock.frozen(datetime(2026, 12, 31, 16, 50, tzinfo=UTC)):
        late = [office.submitted() for _ in range(2)]
    with clock.frozen(datetime(2026, 12, 31, 17, 10, tzinfo=UTC)):
        new_year = office.submitted()
    assert [office.memo(m).number for m in late] == ["พท 72001/1", "พท 72001/2"]
    assert office.memo(late[0]).date.isoformat() == "2026-12-31"  # type: ignore[union-attr]
    assert office.memo(new_year).number == "พท 72001/1"
    assert office.memo(new_year).date.isoformat() == "2027-01-01"  # type: ignore[union-attr]
    assert office.memo(new_year).number_year == 2027


TRICKY_THAI = (
    "ผลการประเมินคุณธรรมและความโปร่งใส\u200bของหน่วยงาน"  # zero-width space, as Thai typists use
    " ๑๒๓ ฯลฯ ๆ ำ่้๊๋ <script>alert('x')</script> & \"quotes\"\n\tบรรทัดใหม่ 🙂"
)


def test_thai_text_round_trips_exactly(office: Office) -> None:
    memo_id = office.create(subject=TRICKY_THAI, facts=TRICKY_THAI, proposal=TRICKY_THAI)
    memo = office.memo(memo_id)
    assert memo.subject == TRICKY_THAI and memo.facts == TRICKY_THAI
    office.act("officer", "submit", memo_id)
    office.act("head", "endorse", memo_id, opinion=TRICKY_THAI)
    assert office.memo(memo_id).opinions[0].text == TRICKY_THAI


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"subject": ""}, {"subject": "required"}),
        ({"subject": "ก" * 1001}, {"subject": "too_long:1000"}),
        ({"facts": "มี\x00ศูนย์"}, {"facts": "control_characters"}),
        ({"urgency": "ด่วน"}, {"urgency": "choice:normal,urgent,very_urgent,most_urgent"}),
        ({"colour": "red"}, {"colour": "unknown_field"}),
    ],
)
def test_bad_fields_are_refused_by_name(
    office: Office, fields: dict[str, str], problem: dict[str, str]
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        office.create(**fields)
    assert refused.value.errors == problem


def test_submitting_needs_every_required_field(office: Office) -> None:
    memo_id = office.create(facts="", proposal="")
    with pytest.raises(ValidationFailed) as refused:
        office.act("officer", "submit", memo_id)
    assert refused.value.errors == {"facts": "required", "proposal": "required"}
    assert office.memo(memo_id).state == "draft"
