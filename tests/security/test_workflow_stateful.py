"""A Hypothesis state machine of the workflow (service API, no Flask): random people take
random actions, with current or stale versions, on a few memos written by an officer or
by the head of office (whose route then skips their own step).

Each step's outcome is predicted by a small reference model of the rules, written
independently of workflow/, and after every step the invariants hold:

- each memo's state is what its last audit event says, and its round and number too;
- the audit chain verifies (``workflow.audit.verify``);
- at most one decision per step per round;
- document numbers are unique and run 1..n without gaps, each in the register.

Bounded for CI (``MEMOFLOW_STATEFUL_EXAMPLES`` and ``..._STEPS`` raise the bounds).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

# Comes with the test extra (pyproject.toml); without it the module says so and skips.
pytest.importorskip("hypothesis", reason="pip install -e '.[test]' (needs hypothesis)")

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models import AuditEvent, Memo, Opinion, RegisterEntry
from models.db import make_session_factory
from tests.conftest import Office, reset_schema
from tests.security.conftest import add_cast
from workflow import audit
from workflow.errors import (
    AlreadyDecided,
    InvalidTransition,
    NotAllowed,
    NotFound,
    StaleVersion,
    WorkflowError,
)

EXAMPLES = int(os.environ.get("MEMOFLOW_STATEFUL_EXAMPLES", "20"))
STEPS = int(os.environ.get("MEMOFLOW_STATEFUL_STEPS", "40"))
PEOPLE = ["officer", "officer2", "head", "palad", "mayor", "admin", "other_mayor"]
ACTIONS = ["edit", "submit", "endorse", "return", "sign", "reject", "withdraw"]
# Moves that usually apply, with weights: the author mostly submits, a reviewer mostly
# endorses, the final signer mostly signs.
AUTHOR_MOVES = ["submit"] * 4 + ["edit", "withdraw"]
STEP_MOVES = ["endorse"] * 4 + ["return"]
FINAL_MOVES = ["sign"] * 2 + ["reject", "return"]
ROLE_OF = {"head": "head_of_office", "palad": "permanent_secretary", "mayor": "mayor"}
ROUTE = ["head", "palad", "mayor"]  # holders of the default route's steps, in order
FINAL = {"signed", "rejected", "withdrawn"}

pytestmark = pytest.mark.slow


@dataclass
class MemoModel:
    """What the rules say a memo is, kept beside the database."""

    author: str
    route: list[str]  # the people at its steps, in order
    state: str = "draft"
    submitted: bool = False
    version: int = 1
    subject: str = ""
    decided: set[str] = field(default_factory=set)  # who decided in the current round

    def step_holder(self) -> str | None:
        if not self.state.startswith("pending_"):
            return None
        role = self.state.removeprefix("pending_")
        return next(person for person in self.route if ROLE_OF[person] == role)

    def sees(self, person: str) -> bool:
        if person == self.author:
            return True
        if not self.submitted or person in ("officer2", "other_mayor"):
            return False
        return person == "admin" or person in self.route


def predict(memo: MemoModel, person: str, action: str, stale: bool, subject: str) -> Any:
    """The error the rules give, or the memo's next state (None: unchanged edit)."""
    if not memo.sees(person):
        return NotFound
    if stale:
        return StaleVersion
    if action in ("edit", "submit", "withdraw"):
        if person != memo.author:
            return NotAllowed
        if action == "withdraw":
            return InvalidTransition if memo.state in FINAL else "withdrawn"
        if memo.state not in ("draft", "returned"):
            return InvalidTransition
        if action == "edit":
            return None if subject == memo.subject else memo.state
        return "pending_" + ROLE_OF[memo.route[0]]
    holder = memo.step_holder()
    if holder is None:
        return InvalidTransition
    if person != holder:
        return AlreadyDecided if person in memo.decided else NotAllowed
    last = holder == memo.route[-1]
    if action == "endorse":
        return (
            InvalidTransition
            if last
            else "pending_" + ROLE_OF[memo.route[memo.route.index(holder) + 1]]
        )
    if action == "return":
        return "returned"
    if action in ("sign", "reject"):
        return ("signed" if action == "sign" else "rejected") if last else InvalidTransition
    raise AssertionError(action)


def run_workflow_machine(engine: Engine) -> None:
    sessions = make_session_factory(engine)

    class Workflow(RuleBasedStateMachine):
        memos = Bundle("memos")

        def __init__(self) -> None:
            super().__init__()
            reset_schema(engine)
            self.office = Office(sessions)
            add_cast(self.office)
            self.model: dict[int, MemoModel] = {}

        @rule(target=memos, author=st.sampled_from(["officer", "head"]))
        def write(self, author: str) -> int:
            memo_id = self.office.create(author)
            route = [person for person in ROUTE if person != author]
            subject = self.office.memo(memo_id).subject
            self.model[memo_id] = MemoModel(author=author, route=route, subject=subject)
            return memo_id

        @rule(memo_id=memos, data=st.data())
        def act(self, memo_id: int, data: st.DataObject) -> None:
            memo = self.model[memo_id]
            # Half the moves are plausible ones (the author, or the holder of the current
            # step), so long paths (returns, rounds, signatures) happen; the rest are anyone.
            holder = memo.step_holder()
            kind = data.draw(st.sampled_from(["plausible", "plausible", "anyone", "again"]))
            if kind == "again" and memo.decided:  # a second click, or a colleague's
                person = data.draw(st.sampled_from(sorted(memo.decided)))
                action = data.draw(st.sampled_from(STEP_MOVES + FINAL_MOVES))
            elif kind != "anyone":
                person = holder or memo.author
                if holder is None:
                    moves = AUTHOR_MOVES
                else:
                    moves = FINAL_MOVES if holder == memo.route[-1] else STEP_MOVES
                action = data.draw(st.sampled_from(moves))
            else:
                person = data.draw(st.sampled_from(PEOPLE))
                action = data.draw(st.sampled_from(ACTIONS))
            stale = data.draw(st.integers(0, 9)) == 0
            subject = data.draw(st.sampled_from(["เรื่องที่แก้ไขแล้ว", "ผลการประเมิน ITA"]))
            self.act_as(memo_id, person, action, stale, subject)

        def act_as(self, memo_id: int, person: str, action: str, stale: bool, subject: str) -> None:
            memo = self.model[memo_id]
            # Mostly the version the person saw is current; sometimes someone was faster.
            stale = stale and memo.version > 1 and action != "edit"
            expected = predict(memo, person, action, stale, subject)
            options: dict[str, Any] = {"version": memo.version - 1 if stale else memo.version}
            if action == "edit":
                options["subject"] = subject
            elif action == "sign":
                options.update(decision="approved", opinion="อนุมัติ")
            elif action in ("endorse", "return", "reject"):
                options["opinion"] = f"ความเห็นของ {person}"
            try:
                state: Any = self.office.act(person, action, memo_id, **options)
            except WorkflowError as error:
                assert type(error) is expected, (person, action, memo, error)
                return
            assert isinstance(expected, str) or expected is None, (person, action, memo, state)
            if expected is None:  # an edit that changed nothing
                assert state == memo.state
                return
            assert state == expected, (person, action, memo)
            memo.version += 1
            if action == "edit":
                memo.subject = subject
            if action == "submit":
                memo.submitted = True
            if action in ("endorse", "return", "sign", "reject"):
                memo.decided.add(person)
            if action in ("submit", "return"):
                memo.decided = set() if action == "return" else memo.decided
            memo.state = state

        def read(self, work: Any) -> Any:
            with sessions() as session:
                return work(session)

        @invariant()
        def state_is_what_the_last_event_says(self) -> None:
            def check(session: Session) -> None:
                last_to_state: dict[int, str] = {}
                for memo_id, to_state in session.execute(
                    select(AuditEvent.memo_id, AuditEvent.to_state)
                    .where(AuditEvent.memo_id.is_not(None), AuditEvent.to_state.is_not(None))
                    .order_by(AuditEvent.organisation_id, AuditEvent.seq)
                ):
                    last_to_state[memo_id] = to_state
                for memo in session.execute(select(Memo)).scalars():
                    assert last_to_state[memo.id] == memo.state
                    assert memo.state == self.model[memo.id].state
                    assert memo.version == self.model[memo.id].version

            self.read(check)

        @invariant()
        def the_chain_verifies(self) -> None:
            report = self.read(audit.verify)
            assert report.ok, report.problems

        @invariant()
        def one_decision_per_step_per_round(self) -> None:
            keys = self.read(
                lambda s: s.execute(select(Opinion.memo_id, Opinion.round, Opinion.step)).all()
            )
            assert len(keys) == len(set(keys))

        @invariant()
        def numbers_are_unique_and_without_gaps(self) -> None:
            def check(session: Session) -> None:
                numbered = session.execute(
                    select(Memo.number_sequence, Memo.number).where(Memo.number.is_not(None))
                ).all()
                sequences = sorted(sequence for sequence, _ in numbered)
                assert sequences == list(range(1, len(sequences) + 1))
                assert len({number for _, number in numbered}) == len(numbered)
                register = Counter(session.execute(select(RegisterEntry.sequence)).scalars())
                assert sorted(register) == sequences and set(register.values()) <= {1}
                submitted = sum(1 for memo in self.model.values() if memo.submitted)
                assert len(sequences) == submitted

            self.read(check)

    run_state_machine_as_test(
        Workflow,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


def test_random_action_sequences_keep_the_invariants(engine: Engine) -> None:
    run_workflow_machine(engine)
