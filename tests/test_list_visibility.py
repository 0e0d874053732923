"""Lists show exactly the memos the reader may see, newest first, page after page, with
the right (capped) total, for every kind of reader and filter.

The list statements do not test visibility memo by memo: they take, per way of seeing a
memo (author, each role on its route, admin), the newest rows of an index and join them
(workflow.queries). Here their answers are held to the rule itself,
``workflow.permissions.can_see``, applied to every memo of the office."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from models import Memo
from tests.conftest import PASSWORD, Office
from workflow import accounts, acting, admin, clock, queries
from workflow.permissions import can_see
from workflow.route import Route, parse_route

NOON = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
READERS = ("officer", "officer2", "head", "head2", "palad", "mayor", "admin")
FILTERS: list[dict[str, Any]] = [
    {},
    {"mine": True},
    {"state": "pending_head_of_office"},
    {"state": "pending_permanent_secretary"},
    {"state": "signed"},
    {"state": "draft"},
    {"state": "returned"},
    {"text": "ลับ"},
    {"text": "พท 72001/1"},
    {"state": "signed", "text": "งบ"},
    {"state": "signed", "text": "งบประมาณ"},
    {"mine": True, "text": "ฉบับที่ 1"},
    {"text": "ความเห็น"},
    {"mine": True, "state": "signed"},
]


@pytest.fixture(autouse=True)
def at_noon() -> Any:
    with clock.frozen(NOON):
        yield


def _add_user(office: Office, username: str, role: str) -> None:
    def work(session: Any) -> None:
        organisation = accounts.only_organisation(session)
        accounts.add_user(
            session, organisation, username, f"ทดสอบ {username}", "ตำแหน่งทดสอบ", role, PASSWORD
        )

    office.run(work)


@pytest.fixture
def busy_office(office: Office) -> Office:
    """Memos of two officers and a head of office in every state, secret ones among
    them, and the second officer acting for the permanent secretary."""
    _add_user(office, "officer2", "officer")
    _add_user(office, "head2", "head_of_office")
    subjects = iter(f"เรื่องงบประมาณ ฉบับที่ {n}" for n in range(100))

    def new(author: str = "officer", **fields: Any) -> int:
        return office.create(author, **({"subject": next(subjects)} | fields))

    def submitted(author: str = "officer", **fields: Any) -> int:
        memo_id = new(author, **fields)
        office.act(author, "submit", memo_id)
        return memo_id

    new()  # a draft
    new("officer2")
    submitted()  # waiting for the head of office
    submitted("officer2", secrecy="secret", subject="เรื่องลับ ขอความเห็น")
    endorsed = submitted()
    office.act("head", "endorse", endorsed, opinion="เห็นควรเสนอ")
    returned = submitted("officer2")
    office.act("head2", "return", returned, opinion="ขอให้แก้ไข")
    withdrawn = submitted()
    office.act("officer", "withdraw", withdrawn)
    for author, secrecy in (("officer", "normal"), ("officer2", "confidential")):
        signed = submitted(author, secrecy=secrecy)
        office.act("head", "endorse", signed, opinion="เห็นควรเสนอ")
        office.act("palad", "endorse", signed, opinion="เห็นควรอนุมัติ")
        office.act("mayor", "sign", signed, decision="approved", opinion="อนุมัติ")
    rejected = submitted()
    office.act("head", "endorse", rejected, opinion="เห็นควรเสนอ")
    office.act("palad", "endorse", rejected, opinion="ไม่เห็นควร")
    office.act("mayor", "reject", rejected, opinion="ไม่อนุมัติ")
    submitted("head")  # the head's own memo skips the head-of-office step
    for _ in range(3):
        submitted("officer2")

    def authorise(session: Any) -> None:
        acting.add_authorisation(
            session,
            None,
            accounts.only_organisation(session),
            office.user(session, "officer2"),
            "permanent_secretary",
            "ปฏิบัติราชการแทน",
            "คำสั่ง ที่ 1/2569",
            date(2026, 11, 20),
            date(2026, 11, 30),
        )

    office.run(authorise)
    return office


def _expected(session: Any, username: str, wanted: dict[str, Any]) -> list[int]:
    """The rule applied to every memo of the office, newest first."""
    reader = Office.user(session, username)
    found = []
    for memo in session.execute(select(Memo).order_by(Memo.id.desc())).scalars():
        text = wanted.get("text")
        if not can_see(reader, memo):
            continue
        if wanted.get("mine") and memo.author_id != reader.id:
            continue
        if wanted.get("state") and memo.state != wanted["state"]:
            continue
        if text and text not in memo.subject and text not in (memo.number or ""):
            continue
        found.append(memo.id)
    return found


def _listed(
    session: Any, username: str, wanted: dict[str, Any], size: int
) -> tuple[list[int], Any]:
    """Every page of the list, walked to the end; and the first page."""
    reader = Office.user(session, username)
    first = queries.search(session, reader, size=size, **wanted)
    listed = [memo.id for memo in first.items]
    page = first
    while page.has_next:
        page = queries.search(session, reader, page=page.page + 1, size=size, **wanted)
        listed.extend(memo.id for memo in page.items)
    return listed, first


@pytest.mark.parametrize("username", READERS)
def test_every_reader_lists_exactly_what_they_may_see(busy_office: Office, username: str) -> None:
    with busy_office.sessions() as session:
        seen_any = False
        for wanted in FILTERS:
            expected = _expected(session, username, wanted)
            listed, first = _listed(session, username, wanted, size=3)
            assert listed == expected, (username, wanted)
            assert (first.total, first.total_capped) == (len(expected), False), (username, wanted)
            seen_any = seen_any or bool(expected)
        assert seen_any, username


@pytest.mark.parametrize("username", ["officer", "officer2", "head", "admin"])
def test_a_capped_total_says_more_and_the_pages_still_go_on(
    busy_office: Office, username: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the count stopping after 4 memos, a reader who may see more is told "more
    than 4", one who may see at most 4 gets the exact number, and the pages beyond the
    counted ones still list every memo."""
    monkeypatch.setattr(queries, "COUNT_LIMIT", 4)
    with busy_office.sessions() as session:
        for wanted in FILTERS:
            expected = _expected(session, username, wanted)
            listed, first = _listed(session, username, wanted, size=2)
            assert listed == expected, (username, wanted)
            assert first.total == min(len(expected), 4), (username, wanted)
            assert first.total_capped == (len(expected) > 4), (username, wanted)


def test_a_role_dropped_from_the_route_still_lists_its_older_memos(busy_office: Office) -> None:
    """Memos keep the route they were submitted with: after the head of office's step is
    removed from the organisation's route, the head still lists, by state too, the memos
    that had it on theirs."""

    def drop_head_of_office(session: Any) -> None:
        organisation = accounts.only_organisation(session)
        route = parse_route(organisation.route)
        shorter = Route(tuple(step for step in route.steps if step.role != "head_of_office"))
        admin.set_route(session, None, organisation, shorter)

    busy_office.run(drop_head_of_office)
    with busy_office.sessions() as session:
        assert "head_of_office" not in parse_route(accounts.only_organisation(session).route).roles
        for username in ("head", "head2", "officer"):
            for wanted in FILTERS:
                expected = _expected(session, username, wanted)
                assert _listed(session, username, wanted, size=3)[0] == expected, wanted
        assert _expected(session, "head", {"state": "signed"})  # not an empty comparison


def _searched(office: Office, username: str, text: str) -> list[int]:
    with office.sessions() as session:
        return _listed(session, username, {"text": text}, size=50)[0]


def test_search_follows_a_changed_subject_and_a_new_number(office: Office) -> None:
    """The text index (models.search) follows the memo: an edited subject is found by its
    new words and no longer by the old ones; a number given at submission is found."""
    memo_id = office.create(subject="ขอซ่อมแซมถนนลาดยาง หมู่ที่ 3")
    other = office.create(subject="ขอจัดซื้อวัสดุสำนักงาน")
    assert _searched(office, "officer", "ถนนลาดยาง") == [memo_id]
    office.act("officer", "edit", memo_id, subject="ขอขุดลอกคูระบายน้ำ หมู่ที่ 3")
    assert _searched(office, "officer", "ถนนลาดยาง") == []
    assert _searched(office, "officer", "คูระบายน้ำ") == [memo_id]
    assert _searched(office, "officer", "หมู่ที่ 3") == [memo_id]
    office.act("officer", "submit", other)
    number = office.memo(other).number
    assert number
    assert _searched(office, "officer", number) == [other]
    assert _searched(office, "officer", number.split("/")[0]) == [other]


def test_search_ignores_the_case_of_latin_letters(office: Office) -> None:
    """A memo about "COVID-19" is found by "covid" and by "Co" on both databases, by its
    author and by a reviewer on its route, whether the text is long enough for the text
    index or not (SQLite's LIKE folds Latin case; PostgreSQL's would not)."""
    memo_id = office.create(subject="ขอรับการสนับสนุนวัคซีน COVID-19 หมู่ที่ 5")
    office.create(subject="ขอจัดซื้อวัสดุสำนักงาน")
    office.act("officer", "submit", memo_id)
    for username in ("officer", "head"):
        for text in ("covid", "Covid-19", "co", "vId"):
            assert _searched(office, username, text) == [memo_id], (username, text)
    assert _searched(office, "head", "covid-20") == []


def test_search_text_is_taken_literally(office: Office) -> None:
    """Wildcards and quotes in the search box are characters like any other, whether the
    text is looked up in the index (three characters or more) or not."""
    percent = office.create(subject="เบิกจ่าย 100% ของงบ")
    underscore = office.create(subject="แฟ้ม a_b ของกอง")
    quoted = office.create(subject='โครงการ "ตำบลสะอาด" ปี 2569')
    office.create(subject="เบิกจ่าย 1000 บาท ของ ab งบ")
    assert _searched(office, "officer", "100%") == [percent]
    assert _searched(office, "officer", "0%") == [percent]
    assert _searched(office, "officer", "a_b") == [underscore]
    assert _searched(office, "officer", "_b") == [underscore]
    assert _searched(office, "officer", '"ตำบลสะอาด"') == [quoted]
    assert _searched(office, "officer", '"') == [quoted]
    assert _searched(office, "officer", "ตำบลสะอาด ปี") == []
