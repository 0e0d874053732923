"""The commonest writes (a submission, a decision) are Core statements, not an ORM flush
(workflow.actions, benchmarks/RESULTS.md). What the caller holds afterwards must be
exactly what was stored, a rolled-back write must leave nothing behind, and a reading
session must refuse them like any other write."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, Memo, MemoRouteRole, Opinion, RegisterEntry
from models.db import ReadOnlySessionError, make_session_factory
from tests.conftest import Office
from workflow import actions

MEMO_COLUMNS = tuple(column.key for column in Memo.__table__.columns)
OPINION_COLUMNS = ("id", "round", "step", "action", "actor_id", "text", "decision", "content_hash")


def _as_held(memo: Memo) -> dict[str, Any]:
    return {
        "memo": {name: getattr(memo, name) for name in MEMO_COLUMNS},
        "opinions": [{name: getattr(o, name) for name in OPINION_COLUMNS} for o in memo.opinions],
    }


def test_the_memo_a_verb_returns_is_the_memo_stored(office: Office) -> None:
    """Each step's returned memo (every column, and its opinions) equals the same memo
    loaded afresh after the commit, and the session holds no unwritten change."""
    with office.sessions.begin() as session:
        memo = actions.create_memo(
            session, office.user(session, "officer"), subject="ขอรับการสนับสนุน", to="นายก"
        )
        memo_id, held = memo.id, _as_held(memo)
        assert not session.new and not session.dirty
        assert (memo.unit, memo.state, memo.version, memo.route_snapshot) == (
            office.user(session, "officer").unit,
            "draft",
            1,
            None,
        )
    assert held == _as_held(office.memo(memo_id))
    with office.sessions() as session:
        # SQL NULL, not JSON null: lists tell submitted memos by it (workflow.queries).
        unsubmitted = select(Memo.id).where(Memo.route_snapshot.is_(None))
        assert session.execute(unsubmitted).scalars().all() == [memo_id]
    office.act("officer", "edit", memo_id, facts="ข้อเท็จจริง", proposal="ข้อเสนอ")
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("officer", "submit", {}),
        ("head", "return", {"opinion": "ขอให้แก้ไขวันที่"}),
        ("officer", "submit", {}),
        ("head", "endorse", {"opinion": "เห็นควรเสนอ"}),
        ("palad", "endorse", {"opinion": "เห็นควรอนุมัติ"}),
        ("mayor", "sign", {"decision": "approved", "opinion": "อนุมัติ"}),
    ]
    for username, action, options in steps:
        with office.sessions.begin() as session:
            memo = actions.perform(
                session, memo_id, office.user(session, username), action, **options
            )
            held = _as_held(memo)
            assert not session.new and not session.dirty, action
        stored = office.memo(memo_id)
        assert held == _as_held(stored), action
    assert stored.state == "signed" and stored.round == 2
    assert [o.action for o in stored.opinions] == ["return", "endorse", "endorse", "sign"]
    # The opinion is an object of the session, so what the API shows right after a
    # decision reads it back (memo and actor included) without surprises.
    with office.sessions.begin() as session:
        again = actions.get_memo(session, memo_id, office.user(session, "mayor"))
        assert again.opinions[-1].memo is again


def test_a_failed_decision_leaves_nothing_behind(office: Office) -> None:
    """A decision whose transaction rolls back after its writes (here: the caller fails
    after the verb returned) stores no opinion, no state and no audit event."""
    memo_id = office.submitted()

    def count(session: Session, model: Any) -> int:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())

    with office.sessions() as session:
        before = (count(session, Opinion), count(session, AuditEvent))

    class CallerFailed(Exception):
        pass

    with pytest.raises(CallerFailed), office.sessions.begin() as session:
        memo = actions.endorse(session, memo_id, office.user(session, "head"), "เห็นควรเสนอ")
        assert memo.state == "pending_permanent_secretary"
        raise CallerFailed

    stored = office.memo(memo_id)
    assert stored.state == "pending_head_of_office" and stored.version == 2
    assert stored.opinions == []
    with office.sessions() as session:
        assert (count(session, Opinion), count(session, AuditEvent)) == before
    # The step is still open: the head decides it now.
    assert (
        office.act("head", "endorse", memo_id, opinion="เห็นควรเสนอ")
        == "pending_permanent_secretary"
    )


def test_a_rolled_back_first_submission_takes_no_number(office: Office) -> None:
    """The register, the route roles and the memo's number go back together."""
    memo_id = office.create()
    with pytest.raises(RuntimeError), office.sessions.begin() as session:
        memo = actions.submit(session, memo_id, office.user(session, "officer"))
        assert memo.number is not None
        raise RuntimeError("the caller failed")
    with office.sessions() as session:
        assert session.execute(select(func.count()).select_from(RegisterEntry)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(MemoRouteRole)).scalar_one() == 0
    assert office.memo(memo_id).number is None
    office.act("officer", "submit", memo_id)
    assert office.memo(memo_id).number_sequence == 1  # the first number, not the second


@pytest.mark.parametrize(
    ("username", "action", "options"),
    [
        ("officer", "submit", {}),
        ("head", "endorse", {"opinion": "เห็นควรเสนอ"}),
        ("head", "return", {"opinion": "ขอให้แก้ไข"}),
    ],
)
def test_a_reading_session_refuses_a_workflow_action(
    engine: Engine,
    sessions: sessionmaker[Session],
    office: Office,
    username: str,
    action: str,
    options: dict[str, Any],
) -> None:
    memo_id = office.create() if action == "submit" else office.submitted()
    state_before = office.memo(memo_id).state
    reading = make_session_factory(engine, reading=True)
    with reading() as session, pytest.raises(ReadOnlySessionError):
        actions.perform(session, memo_id, office.user(session, username), action, **options)
    stored = office.memo(memo_id)
    assert stored.state == state_before and stored.opinions == []
