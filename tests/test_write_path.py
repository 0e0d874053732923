"""The commonest writes (a submission, a decision) are Core statements, not an ORM flush
(workflow.actions, benchmarks/RESULTS.md at 47590cd). What the caller holds afterwards must be
exactly what was stored, a rolled-back write must leave nothing behind, and a reading
session must refuse them like any other write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, Memo, MemoRouteRole, Opinion, RegisterEntry
from models.db import ReadOnlySessionError, make_session_factory
from tests.conftest import Office
from workflow import actions, audit, clock
from workflow.canonical import sha256_of

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


# What the memo's events of ``_recorded_history`` hash to (prev_hash and seq left out,
# which depend on the seed office's own events), as the write path before issue 19's
# rows-and-prepared-statements rewrite (commit a32bcc9) recorded them: the audit
# encoding (docs/audit.md) must not change, or chains written before stop verifying.
RECORDED_BEFORE = [
    ("create", "516327dcbb2b9504ca0ab5b36ec9062fbc307e164e39fda1216883f0479a364c"),
    ("edit", "72594128dbb287fbdfccb7485e175f019dc79a0e47b8ec131a786861e9053f73"),
    ("attach", "ae310d5724146c54c00dd3cc8ef0c51d56c4a90873f08235ed4b54de2b003f83"),
    ("submit", "56bc0ced5f73dc4b24d4b2255450ef3cfa4ea3d81e25d2892266556550496712"),
    ("return", "0b280b6486d2597d674227f4b64182f2c98765bb05472afa16f8cdab3cf32a01"),
    ("submit", "c98dfec34b29d1d76fb873b15fc27f379b5970a49cebdbf4fefcbf4b390a8347"),
    ("endorse", "e4407320c4701d63e721e82f8cc207b61dc5d898f7ecaea086544408f59b13b3"),
    ("endorse", "9fd4389f46bfb21154717c2174256a1b1133fbfc585bfb96ceeb90e44da9fa41"),
    ("sign", "a09fd4cf649d5d6c3dc420b22c71394f7107a657fa74242c83d20c7342bdb030"),
]


def _recorded_history(office: Office) -> list[tuple[str, str]]:
    """A memo through every kind of write at fixed times: created, edited, a file
    attached and removed and attached again, submitted, returned, submitted again,
    endorsed twice and signed; its events' records, each hashed without its links."""
    start = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)
    moments = iter(start + timedelta(minutes=minute) for minute in range(100))
    with clock.frozen(next(moments)):
        memo_id = office.create(subject="ขอรับการสนับสนุนงบประมาณ", to="นายก")
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("officer", "edit", {"facts": "ข้อเท็จจริง\nบรรทัดสอง", "proposal": "ข้อเสนอ"}),
        ("officer", "submit", {}),
        ("head", "return", {"opinion": "ขอให้แก้ไขวันที่"}),
        ("officer", "submit", {}),
        ("head", "endorse", {"opinion": 'เห็นควรเสนอ "ด่วน"'}),
        ("palad", "endorse", {"opinion": "เห็นควรอนุมัติ"}),
        ("mayor", "sign", {"decision": "approved", "opinion": "อนุมัติ"}),
    ]
    for index, (username, action, options) in enumerate(steps):
        if index == 1:
            with clock.frozen(next(moments)):
                office.run(
                    lambda s: actions.add_attachment(
                        s, memo_id, office.user(s, "officer"), "ใบเสนอราคา.pdf", b"%PDF-1.4 x"
                    )
                )
        with clock.frozen(next(moments)):
            office.act(username, action, memo_id, **options)
    with office.sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.memo_id == memo_id).order_by(AuditEvent.seq)
        ).all()
        return [
            (
                event.action,
                sha256_of(audit.event_record(event) | {"seq": 0, "prev_hash": "", "memo_id": 0}),
            )
            for event in events
        ]


def test_the_audit_records_are_those_written_before(office: Office) -> None:
    """Each event a memo's life writes (its states, opinions, decision and document
    hashes, details and times) hashes exactly as the code before this write path wrote
    it, and the chain verifies."""
    assert _recorded_history(office) == RECORDED_BEFORE
    assert office.run(audit.verify).ok
