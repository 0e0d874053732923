"""The whole (state x action x role) matrix of the default route, on the service API
(no Flask) and through the JSON API: allowed exactly where the rules allow; everywhere
else refused with the right error and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from models import AuditEvent
from tests.conftest import PASSWORD, ApiClient, Office
from workflow import accounts
from workflow.errors import AlreadyDecided, InvalidTransition, NotAllowed, NotFound, RouteError
from workflow.machine import TRIGGER_FOR_ACTION, fire, machine_for
from workflow.route import default_route, parse_route

STATES = [
    "draft",
    "pending_head_of_office",
    "pending_permanent_secretary",
    "pending_mayor",
    "returned",
    "signed",
    "rejected",
    "withdrawn",
]
ACTIONS = ["edit", "submit", "endorse", "return", "sign", "reject", "withdraw"]
USERS = ["officer", "officer2", "head", "palad", "mayor", "admin"]
STEP_OF = {"head": "head_of_office", "palad": "permanent_secretary", "mayor": "mayor"}
ORDER = ["head", "palad", "mayor"]

# What each person may do, state by state: the rules of the issue, written out by hand.
ALLOWED = {
    ("officer", "draft"): {"edit", "submit", "withdraw"},
    ("officer", "returned"): {"edit", "submit", "withdraw"},
    ("officer", "pending_head_of_office"): {"withdraw"},
    ("officer", "pending_permanent_secretary"): {"withdraw"},
    ("officer", "pending_mayor"): {"withdraw"},
    ("head", "pending_head_of_office"): {"endorse", "return"},
    ("palad", "pending_permanent_secretary"): {"endorse", "return"},
    ("mayor", "pending_mayor"): {"return", "sign", "reject"},
}


def options_for(action: str) -> dict[str, Any]:
    if action == "edit":
        return {"subject": "เรื่องแก้ไข"}
    if action == "sign":
        return {"decision": "approved", "opinion": "อนุมัติ"}
    if action in ("endorse", "return", "reject"):
        return {"opinion": "ความเห็นทดสอบ"}
    return {}


def bring_to(office: Office, state: str) -> int:
    """A fresh memo by ``officer`` in ``state``."""
    memo_id = office.create()
    if state == "draft":
        return memo_id
    office.act("officer", "submit", memo_id)
    if state == "withdrawn":
        office.act("officer", "withdraw", memo_id)
    elif state == "returned":
        office.act("head", "return", memo_id, opinion="แก้ไขข้อเท็จจริง")
    elif state != "pending_head_of_office":
        office.act("head", "endorse", memo_id, opinion="เห็นควร")
        if state != "pending_permanent_secretary":
            office.act("palad", "endorse", memo_id, opinion="เห็นควร")
            if state == "signed":
                office.act("mayor", "sign", memo_id, decision="acknowledged")
            elif state == "rejected":
                office.act("mayor", "reject", memo_id, opinion="ไม่อนุมัติ")
    assert office.memo(memo_id).state == state
    return memo_id


def visible(user: str, state: str) -> bool:
    if user == "officer":
        return True
    # Route holders and the admin see a submitted, non-secret memo; nobody else does.
    return user != "officer2" and state != "draft"


def already_decided(user: str, state: str) -> bool:
    """Has ``user`` decided their step in the memo's current round?"""
    if user not in ORDER or state in ("draft", "returned", "withdrawn"):
        return False
    reached = {
        "pending_head_of_office": 0,
        "pending_permanent_secretary": 1,
        "pending_mayor": 2,
        "signed": 3,
        "rejected": 3,
    }[state]
    return ORDER.index(user) < reached


def expected_error(user: str, state: str, action: str) -> type[Exception] | None:
    if action in ALLOWED.get((user, state), set()):
        return None
    if not visible(user, state):
        return NotFound
    if action in ("edit", "submit", "withdraw"):
        return NotAllowed if user != "officer" else InvalidTransition
    if not state.startswith("pending_"):
        return InvalidTransition
    if already_decided(user, state):
        return AlreadyDecided
    holds_current = user in STEP_OF and state == f"pending_{STEP_OF[user]}"
    return InvalidTransition if holds_current else NotAllowed


@pytest.fixture
def full_office(office: Office) -> Office:
    def add_second_officer(session: Any) -> None:
        organisation = accounts.only_organisation(session)
        accounts.add_user(
            session,
            organisation,
            "officer2",
            "นายสมชาย ใจดี",
            "นักจัดการงานทั่วไป",
            "officer",
            PASSWORD,
        )

    office.run(add_second_officer)
    return office


def event_count(office: Office) -> int:
    return int(office.run(lambda s: s.execute(select(func.count(AuditEvent.id))).scalar_one()))


@pytest.mark.parametrize("state", STATES)
def test_service_matrix(full_office: Office, state: str) -> None:
    mismatches = []
    for user in USERS:
        for action in ACTIONS:
            memo_id = bring_to(full_office, state)
            before = full_office.memo(memo_id)
            events_before = event_count(full_office)
            expected = expected_error(user, state, action)
            try:
                full_office.act(user, action, memo_id, **options_for(action))
                outcome: type[Exception] | None = None
            except (NotFound, NotAllowed, InvalidTransition, AlreadyDecided) as error:
                outcome = type(error)
            after = full_office.memo(memo_id)
            if outcome is not expected:
                mismatches.append(f"{user} {action} in {state}: {outcome} != {expected}")
            if outcome is not None and (
                after.state != before.state
                or after.version != before.version
                or event_count(full_office) != events_before
            ):
                mismatches.append(f"{user} {action} in {state}: refused but changed the memo")
            if outcome is None and after.version != before.version + 1:
                mismatches.append(f"{user} {action} in {state}: version not bumped")
    assert not mismatches, "\n".join(mismatches)


STATUS = {None: 200, NotFound: 404, NotAllowed: 403, InvalidTransition: 409, AlreadyDecided: 409}


@pytest.mark.parametrize("state", STATES)
def test_api_matrix(api: ApiClient, state: str) -> None:
    office = api.office

    def add_second_officer(session: Any) -> None:
        if accounts.find_user(session, "officer2") is None:
            accounts.add_user(
                session,
                accounts.only_organisation(session),
                "officer2",
                "นายสมชาย ใจดี",
                "นักจัดการงานทั่วไป",
                "officer",
                PASSWORD,
            )

    office.run(add_second_officer)
    mismatches = []
    for user in USERS:
        for action in ACTIONS:
            memo_id = bring_to(office, state)
            if action == "edit":
                response = api.patch(user, f"/api/v1/memos/{memo_id}", options_for(action))
            else:
                response = api.act(user, memo_id, action, **options_for(action))
            want = STATUS[expected_error(user, state, action)]
            if response.status_code != want:
                mismatches.append(
                    f"{user} {action} in {state}: {response.status_code} != {want}"
                    f" {response.get_json()}"
                )
            elif want != 200:
                error = response.get_json()["error"]
                assert error["code"] and error["message"]
    assert not mismatches, "\n".join(mismatches)


# The route's machine on its own (workflow.machine.fire), without a memo or a database.
MACHINE_MOVES = {
    ("draft", "submit"): "pending_head_of_office",
    ("returned", "submit"): "pending_head_of_office",
    ("pending_head_of_office", "endorse"): "pending_permanent_secretary",
    ("pending_permanent_secretary", "endorse"): "pending_mayor",
    ("pending_mayor", "sign"): "signed",
    ("pending_mayor", "reject"): "rejected",
    **{(state, "return"): "returned" for state in STATES if state.startswith("pending_")},
    **{
        (state, "withdraw"): "withdrawn"
        for state in STATES
        if state in ("draft", "returned") or state.startswith("pending_")
    },
}


def test_the_machine_moves_exactly_as_the_route_says() -> None:
    """Every (state, action) pair of the default route: the state it leads to, or
    InvalidTransition; the shared machine keeps no model afterwards."""
    route = default_route("อบต.ทดสอบ")
    machine = machine_for(route)
    models_before = list(machine.models)
    for state in STATES:
        for action in TRIGGER_FOR_ACTION:
            expected = MACHINE_MOVES.get((state, action))
            if expected is None:
                with pytest.raises(InvalidTransition):
                    fire(route, state, action)
            else:
                assert fire(route, state, action) == expected, (state, action)
    assert machine.models == models_before


def test_a_one_step_route_has_nothing_to_endorse() -> None:
    """On a route of one step the step is the last: endorse is not possible (there is no
    such event at all), sign is."""
    route = parse_route([{"key": "mayor", "role": "mayor"}])
    with pytest.raises(InvalidTransition):
        fire(route, "pending_mayor", "endorse")
    assert fire(route, "pending_mayor", "sign") == "signed"


def test_a_route_read_again_is_the_same_route_and_a_changed_one_is_not() -> None:
    """parse_route remembers routes it built (every decision reads its memo's snapshot):
    the same data gives the same route, the organisation's name still fills each label,
    data changed in place gives the changed route, and bad data is refused every time."""
    data = [
        {"key": "head", "role": "head_of_office", "label": "ความเห็น {organisation}"},
        {"key": "mayor", "role": "mayor", "title": "นายก{organisation}"},
    ]
    first = parse_route(data, "อบต.ท่าข้าม")
    assert parse_route(data, "อบต.ท่าข้าม") == first
    assert first.steps[0].label == "ความเห็น อบต.ท่าข้าม"
    assert parse_route(data, "อบต.บางปลา").steps[1].title == "นายกอบต.บางปลา"
    data[0]["role"] = "palad"
    assert parse_route(data, "อบต.ท่าข้าม").roles == {"palad", "mayor"}
    duplicated = [{"key": "mayor", "role": "mayor"}, {"key": "mayor", "role": "palad"}]
    for _ in range(2):
        with pytest.raises(RouteError, match="unique"):
            parse_route(duplicated)
