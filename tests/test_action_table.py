"""The action table (workflow.action_table) is the one list of workflow actions: the
machine, the permissions, the audit and the API's schema read it, the machine allows
exactly its moves, and it can say what the routing work needs (a target chosen at run
time, guards over data, actions that keep the state) without touching anything else."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from types import MappingProxyType

import pytest

from models import AuditEvent, Memo, Opinion
from tests.conftest import Office
from webapp.api.schemas import ActionSchema
from workflow import action_table, audit, machine, permissions
from workflow.action_table import (
    ACTION_TABLE,
    RETURNED,
    STAY,
    Action,
    Actor,
    Effect,
    GuardContext,
    states_of,
)
from workflow.action_table import (
    Opinion as OpinionRule,
)
from workflow.errors import InvalidTransition, NotAllowed, ValidationFailed
from workflow.route import Route, Step, default_route

TABLE_NAMES = set(ACTION_TABLE)
FOUR_STEPS = Route(
    tuple(Step(key, f"role_{key}", f"ความเห็น {key}", f"ตำแหน่ง {key}") for key in "abcd")
)


def test_every_list_of_actions_is_the_tables() -> None:
    assert {"submit", "endorse", "return", "sign", "reject", "withdraw"} == TABLE_NAMES
    # The machine: its named actions and the events of a built machine.
    assert set(machine.ACTIONS) == set(machine.TRIGGER_FOR_ACTION) == TABLE_NAMES
    built = machine.machine_for(FOUR_STEPS)
    assert set(built.events) == {ACTION_TABLE[name].trigger for name in TABLE_NAMES}
    # The permissions: every action is someone's, and nobody else's.
    kinds = (permissions.AUTHOR_ACTIONS, permissions.STEP_ACTIONS, permissions.ADMIN_ACTIONS)
    assert set().union(*kinds) == TABLE_NAMES
    assert sum(len(kind) for kind in kinds) == len(TABLE_NAMES)
    assert {"submit", "withdraw"} == permissions.AUTHOR_ACTIONS
    # The audit: what it replays, and which of them write an opinion.
    assert set(audit.WORKFLOW_ACTIONS) == TABLE_NAMES
    assert set(audit.DECISION_ACTIONS) == {"endorse", "return", "sign", "reject"}
    assert set(audit.NUMBERING_ACTIONS) == {"submit"}
    assert set(audit.NEW_ROUND_ACTIONS) == {"return"}
    # The API's schema offers exactly the table's actions.
    choices = ActionSchema().fields["action"].metadata["enum"]
    assert sorted(choices) == sorted(TABLE_NAMES)


def _expected_4_steps() -> set[tuple[str, str, str]]:
    """The default actions' moves on a four-step route, written out by hand."""
    a, b, c, d = (f"pending_{key}" for key in "abcd")
    moves = {
        ("draft", "submit", a),
        ("returned", "submit", a),
        (a, "endorse", b),
        (b, "endorse", c),
        (c, "endorse", d),
        (d, "sign", "signed"),
        (d, "reject", "rejected"),
    }
    moves |= {(state, "return", "returned") for state in (a, b, c, d)}
    moves |= {(state, "withdraw", "withdrawn") for state in ("draft", "returned", a, b, c, d)}
    return moves


def _fired(route: Route) -> set[tuple[str, str, str]]:
    """Every (state, action, state after) the route's machine allows."""
    allowed = set()
    for state in states_of(route):
        for name in ACTION_TABLE:
            try:
                allowed.add((state, name, machine.fire(route, state, name)))
            except InvalidTransition:
                continue
    return allowed


def _table_moves(route: Route) -> set[tuple[str, str, str]]:
    return {
        (source, name, target if target is not STAY else source)
        for name, action in ACTION_TABLE.items()
        for source, target in action.transitions(route)
    }


@pytest.mark.parametrize("route", [default_route("อบต.ทดสอบ"), FOUR_STEPS], ids=["default", "4"])
def test_the_machine_allows_exactly_the_tables_moves(route: Route) -> None:
    assert _fired(route) == _table_moves(route)
    for state in states_of(route):
        expected = {name for source, name, _ in _table_moves(route) if source == state}
        assert set(machine.available_actions(route, state)) == expected


def test_the_four_step_route_moves_as_written_by_hand() -> None:
    assert _fired(FOUR_STEPS) == _expected_4_steps()
    # A final state allows nothing.
    for state in ("signed", "rejected", "withdrawn"):
        assert machine.available_actions(FOUR_STEPS, state) == []


# --- what the routing work needs ---------------------------------------------------------


def _to_an_earlier_step(route: Route) -> Iterable[tuple[str, str | None]]:
    states = [step.state for step in route.steps]
    return [(here, there) for i, here in enumerate(states) for there in states[:i]]


def _at_any_step(route: Route) -> Iterable[tuple[str, str | None]]:
    return [(step.state, STAY) for step in route.steps]


SEND_BACK = Action(
    "send_back",
    Actor.STEP,
    _to_an_earlier_step,
    opinion=OpinionRule.REQUIRED,
    effects=frozenset({Effect.WRITES_OPINION}),
    target_chosen=True,
)
NOTE = Action("note", Actor.STEP, _at_any_step, opinion=OpinionRule.REQUIRED)


def test_a_target_chosen_at_run_time_and_a_move_that_stays() -> None:
    table = {**ACTION_TABLE, "send_back": SEND_BACK, "note": NOTE}
    built = machine.build_machine(FOUR_STEPS, table)
    at_c = "pending_c"
    for target in ("pending_a", "pending_b"):
        assert machine.fire(FOUR_STEPS, at_c, "send_back", target=target, machine=built) == target
    # Not later, not itself, not unnamed: refused like any impossible move.
    for target in ("pending_d", at_c, RETURNED, None):
        with pytest.raises(InvalidTransition):
            machine.fire(FOUR_STEPS, at_c, "send_back", target=target, machine=built)
    assert machine.fire(FOUR_STEPS, at_c, "note", machine=built) == at_c
    with pytest.raises(InvalidTransition):
        machine.fire(FOUR_STEPS, "draft", "note", machine=built)
    # The default actions are untouched by the additions.
    assert machine.fire(FOUR_STEPS, at_c, "endorse", machine=built) == "pending_d"


def _with_table(monkeypatch: pytest.MonkeyPatch, table: dict[str, Action]) -> None:
    """Run with another table: the one attribute everything reads, and fresh machines."""
    monkeypatch.setattr(action_table, "ACTION_TABLE", MappingProxyType(table))
    monkeypatch.setattr(machine, "_machines", {})


def test_an_action_added_to_the_table_alone_is_taken_and_audited(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A note at a step (an action that keeps the state): only the table changes, and the
    memo, its allowed actions, its audit event and the chain's verification follow."""
    memo_id = office.submitted()
    _with_table(monkeypatch, {**ACTION_TABLE, "note": NOTE})
    before = office.memo(memo_id)

    def allowed(username: str) -> list[str]:
        return office.run(
            lambda s: permissions.allowed_actions(s.get(Memo, memo_id), office.user(s, username))
        )

    assert "note" in allowed("head") and "note" not in allowed("officer")
    with pytest.raises(ValidationFailed) as refused:
        office.act("head", "note", memo_id, opinion=" ")
    assert refused.value.errors == {"opinion": "required"}
    assert office.act("head", "note", memo_id, opinion="ขอข้อมูลเพิ่มเติม") == before.state
    after = office.memo(memo_id)
    assert (after.state, after.version) == (before.state, before.version + 1)
    assert after.opinions == []
    with office.sessions() as session:
        event = session.query(AuditEvent).order_by(AuditEvent.seq.desc()).first()
        assert event is not None
        assert (event.action, event.from_state, event.to_state, event.opinion) == (
            "note",
            before.state,
            before.state,
            "ขอข้อมูลเพิ่มเติม",
        )
        assert session.query(Opinion).count() == 0
        assert audit.verify(session).ok
    # The author may not take a step's action.
    with pytest.raises(NotAllowed):
        office.act("officer", "note", memo_id, opinion="x")


def test_a_guard_over_data_refuses_before_anything_is_written(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guard (here: no endorsement while the memo has no attachment) is checked by the
    one body every action runs through; a refusal leaves the memo and the chain as
    they were."""

    def needs_an_attachment(context: GuardContext) -> None:
        if not context.memo.attachments:
            raise InvalidTransition("attach the evidence first", state=context.memo.state)

    guarded = replace(ACTION_TABLE["endorse"], guards=(needs_an_attachment,))
    _with_table(monkeypatch, {**ACTION_TABLE, "endorse": guarded})
    memo_id = office.submitted()
    before = office.memo(memo_id)
    with pytest.raises(InvalidTransition, match="attach the evidence first"):
        office.act("head", "endorse", memo_id, opinion="เห็นควร")
    after = office.memo(memo_id)
    assert (after.state, after.version, after.opinions) == (before.state, before.version, [])
    with office.sessions() as session:
        assert audit.verify(session).ok


def test_submitting_checks_the_tables_guard_for_complete_fields(office: Office) -> None:
    memo_id = office.create(facts="", proposal="")
    with pytest.raises(ValidationFailed) as refused:
        office.act("officer", "submit", memo_id)
    assert set(refused.value.errors) == {"facts", "proposal"}
    assert office.memo(memo_id).state == "draft"


def test_an_unknown_action_names_the_tables_choices(office: Office) -> None:
    memo_id = office.create()
    with pytest.raises(ValidationFailed) as refused:
        office.act("officer", "approve", memo_id)
    assert refused.value.errors == {"action": "choice:" + ",".join(ACTION_TABLE)}
