"""The audit chain: append, verify and export.

One chain per organisation. Each event's ``hash`` is SHA-256 over the canonical encoding
(workflow.canonical) of the event's fields, ``prev_hash`` included, so changing, removing,
inserting or reordering any event breaks every hash after it. Appends lock the
organisation's chain-head row, which serialises them per organisation (and only per
organisation). ``verify`` also replays each memo's events against the memo itself.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session, selectinload

from models import AuditEvent, ChainHead, Memo, User
from workflow import clock
from workflow.action_table import ACTION_TABLE, Effect, actions_with
from workflow.canonical import GENESIS_HASH, canonical_json, format_utc, sha256_of
from workflow.content import decision_hash, document_hash
from workflow.opinion_record import OpinionRecord
from workflow.prepared import Prepared

# What a memo's events replay, by the action table's effects: every workflow action, the
# decisions that write an opinion, those that take a number and those that start a round.
WORKFLOW_ACTIONS = tuple(ACTION_TABLE)
DECISION_ACTIONS = actions_with(Effect.WRITES_OPINION)
NUMBERING_ACTIONS = actions_with(Effect.TAKES_NUMBER)
NEW_ROUND_ACTIONS = actions_with(Effect.NEW_ROUND)


# The fields an event's hash covers, in the canonical shape (docs/audit.md).
_HASHED_FIELDS = (
    "organisation_id",
    "seq",
    "memo_id",
    "action",
    "from_state",
    "to_state",
    "opinion",
    "content_hash",
    "details",
    "prev_hash",
)


def _record_of(value: Callable[[str], Any]) -> dict[str, Any]:
    record = {name: value(name) for name in _HASHED_FIELDS}
    record["actor"] = {
        "id": value("actor_id"),
        "name": value("actor_name"),
        "position": value("actor_position"),
    }
    record["at"] = format_utc(value("at"))
    return record


def event_record(event: AuditEvent) -> dict[str, Any]:
    """Everything an event's hash covers, in the canonical shape (docs/audit.md)."""
    return _record_of(lambda name: getattr(event, name))


def event_hash(event: AuditEvent) -> str:
    return sha256_of(event_record(event))


# Appends run on every state change, so they are statements compiled once per dialect
# and run on the transaction's driver connection (workflow.prepared): no ORM
# objects to track and flush (a third of a decision's time went there).
_HEAD = cast(Table, ChainHead.__table__)
_EVENT = cast(Table, AuditEvent.__table__)
_LOCK_HEAD = Prepared(
    select(_HEAD.c.last_seq, _HEAD.c.last_hash)
    .where(_HEAD.c.organisation_id == bindparam("head_organisation"))
    .with_for_update(),
    writing=True,
)
_MOVE_HEAD = Prepared(
    update(_HEAD)
    .where(_HEAD.c.organisation_id == bindparam("head_organisation"))
    .values(last_seq=bindparam("new_seq"), last_hash=bindparam("new_hash")),
    writing=True,
)
_INSERT_EVENT = Prepared(insert(_EVENT), by_keys=True, writing=True)


def append_event(
    session: Session,
    *,
    organisation_id: int,
    actor: User | None,
    action: str,
    memo: Memo | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    opinion: str | None = None,
    details: dict[str, Any] | None = None,
    content_hash: str | None = None,
) -> str:
    """Append one event to the organisation's chain and return its hash. Locks the chain
    head until the transaction ends (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the
    transaction holds the write lock). Flushes pending changes first; never commits.
    ``content_hash`` is the memo's document hash when the caller has computed it."""
    if session.new or session.deleted or session.dirty:
        session.flush()
    last_seq, last_hash = _LOCK_HEAD.one(session, {"head_organisation": organisation_id})
    values: dict[str, Any] = {
        "organisation_id": organisation_id,
        "seq": last_seq + 1,
        "memo_id": memo.id if memo is not None else None,
        "actor_id": actor.id if actor is not None else None,
        "actor_name": actor.full_name if actor is not None else "system",
        "actor_position": actor.position if actor is not None else "",
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "opinion": opinion,
        "content_hash": None if memo is None else (content_hash or document_hash(memo)),
        "details": details or {},
        "at": clock.utcnow_naive(),
        "prev_hash": last_hash,
    }
    values["hash"] = sha256_of(_record_of(values.__getitem__))
    _INSERT_EVENT.rows(session, values)
    _MOVE_HEAD.rows(
        session,
        {
            "head_organisation": organisation_id,
            "new_seq": values["seq"],
            "new_hash": values["hash"],
        },
    )
    return str(values["hash"])


def start_chain(session: Session, organisation_id: int) -> None:
    session.flush()  # the organisation row first
    session.connection().execute(
        insert(_HEAD).values(organisation_id=organisation_id, last_seq=0, last_hash=GENESIS_HASH)
    )


# --- verification -------------------------------------------------------------------


@dataclass
class VerifyReport:
    event_count: int = 0
    head_hashes: dict[int, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, message: str) -> None:
        self.problems.append(message)


@contextmanager
def _full_collections_paused() -> Iterator[None]:
    """Verification keeps a replay record per memo until it ends, and Python's automatic
    full collections walk every one of them again and again: at 100,000 memos, 121 full
    collections made verification 1.7x slower, and the cost per event grew with the
    history. Automatic collection is paused meanwhile; ``_forget_batch`` collects the young
    generations (each batch's ORM objects, which hold reference cycles) as it goes."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _forget_batch(session: Session) -> None:
    """Drop a batch's objects from the session and free them (they hold cycles)."""
    session.expunge_all()
    gc.collect(1)


def _events_in_order(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    """All events, organisation by organisation and in sequence, read in batches."""
    last_key = (0, 0)
    while True:
        rows = (
            session.execute(
                select(AuditEvent)
                .where(
                    (AuditEvent.organisation_id > last_key[0])
                    | ((AuditEvent.organisation_id == last_key[0]) & (AuditEvent.seq > last_key[1]))
                )
                .order_by(AuditEvent.organisation_id, AuditEvent.seq)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        yield from rows
        last_key = (rows[-1].organisation_id, rows[-1].seq)
        _forget_batch(session)


@dataclass
class _MemoReplay:
    """What a memo's events say the memo must be."""

    first_action: str = ""
    state: str | None = None
    round: int = 1
    number: str | None = None
    content_hash: str | None = None
    opinions: list[OpinionRecord] = field(default_factory=list)
    first_seq: int = 0


def verify(session: Session, expected_head: str | None = None) -> VerifyReport:
    """Recompute every chain and check every memo against its events."""
    with _full_collections_paused():
        return _verify(session, expected_head)


def _verify(session: Session, expected_head: str | None) -> VerifyReport:
    report = VerifyReport()
    replays: dict[int, _MemoReplay] = defaultdict(_MemoReplay)
    seen_expected_head = expected_head is None
    current_org: int | None = None
    previous_hash = GENESIS_HASH
    previous_seq = 0

    for event in _events_in_order(session):
        report.event_count += 1
        if event.organisation_id != current_org:
            current_org = event.organisation_id
            previous_hash, previous_seq = GENESIS_HASH, 0
        where = f"event seq {event.seq} (organisation {event.organisation_id})"
        if event.seq != previous_seq + 1:
            report.fail(f"{where}: expected seq {previous_seq + 1}; events missing or inserted")
        if event.prev_hash != previous_hash:
            report.fail(f"{where}: prev_hash does not match the preceding event's hash")
        recomputed = event_hash(event)
        if recomputed != event.hash:
            report.fail(f"{where}: hash does not recompute; the event was altered")
        if event.hash == expected_head:
            seen_expected_head = True
        previous_hash, previous_seq = event.hash, event.seq
        report.head_hashes[event.organisation_id] = event.hash
        if event.memo_id is not None:
            _replay(replays[event.memo_id], event, report, where)

    for head in session.execute(
        select(ChainHead).execution_options(populate_existing=True)
    ).scalars():
        actual = report.head_hashes.get(head.organisation_id, GENESIS_HASH)
        if head.last_hash != actual:
            report.fail(
                f"organisation {head.organisation_id}: chain head says {head.last_hash[:16]}…"
                f" (seq {head.last_seq}) but the last event is {actual[:16]}…;"
                " events were removed or added"
            )
    if not seen_expected_head:
        report.fail(f"the recorded head {expected_head} is no longer in the chain (truncated?)")
    _check_memos(session, replays, report)
    return report


def _replay(replay: _MemoReplay, event: AuditEvent, report: VerifyReport, where: str) -> None:
    if not replay.first_action:
        replay.first_action = event.action
        replay.first_seq = event.seq
        if event.action != "create":
            report.fail(f"{where}: memo {event.memo_id}'s first event is {event.action}")
    elif event.from_state is not None and event.from_state != replay.state:
        report.fail(
            f"{where}: memo {event.memo_id} moves from {event.from_state}"
            f" but its previous event left it {replay.state}"
        )
    if event.to_state is not None:
        replay.state = event.to_state
    replay.content_hash = event.content_hash
    details = event.details or {}
    if event.action in NUMBERING_ACTIONS and details.get("number"):
        replay.number = details["number"]
    if event.action in DECISION_ACTIONS:
        replay.opinions.append(OpinionRecord.from_event(event))
    if event.action in NEW_ROUND_ACTIONS:
        replay.round += 1


def _check_memos(
    session: Session, replays: dict[int, _MemoReplay], report: VerifyReport, batch: int = 500
) -> None:
    seen: set[int] = set()
    last_id = 0
    while True:
        memos = (
            session.execute(
                select(Memo)
                .where(Memo.id > last_id)
                .order_by(Memo.id)
                .limit(batch)
                .options(selectinload(Memo.opinions), selectinload(Memo.attachments))
            )
            .scalars()
            .all()
        )
        if not memos:
            break
        for memo in memos:
            seen.add(memo.id)
            _check_memo(memo, replays.get(memo.id), report)
        last_id = memos[-1].id
        _forget_batch(session)
    for memo_id in sorted(set(replays) - seen):
        report.fail(f"memo {memo_id}: has events but the memo is gone")


def _check_memo(memo: Memo, replay: _MemoReplay | None, report: VerifyReport) -> None:
    where = f"memo {memo.id}"
    if replay is None:
        report.fail(f"{where}: has no events in the audit log")
        return
    if memo.state != replay.state:
        report.fail(f"{where}: state is {memo.state} but its events say {replay.state}")
    if memo.number != replay.number:
        report.fail(f"{where}: number is {memo.number} but its events say {replay.number}")
    if memo.round != replay.round:
        report.fail(f"{where}: round is {memo.round} but its events say {replay.round}")
    if document_hash(memo) != replay.content_hash:
        report.fail(f"{where}: its content differs from what its last event recorded")
    stored = [OpinionRecord.from_opinion(o) for o in sorted(memo.opinions, key=lambda o: o.id)]
    if stored != replay.opinions:
        report.fail(f"{where}: its opinions differ from the decisions in its events")
    for opinion in memo.opinions:
        if opinion.round == memo.round and opinion.content_hash != decision_hash(
            memo, opinion.round, before_opinion_id=opinion.id
        ):
            report.fail(
                f"{where}: the opinion at step {opinion.step} (round {opinion.round}) was made"
                " on other content than the memo has now"
            )


@dataclass
class EventCheck:
    """One event of a memo's timeline and whether it verifies on its own links."""

    event: AuditEvent
    hash_ok: bool
    linked: bool

    @property
    def ok(self) -> bool:
        return self.hash_ok and self.linked


def memo_timeline(session: Session, memo: Memo) -> list[EventCheck]:
    """A memo's events, each checked: its hash recomputes and its prev_hash is the hash of
    the event before it in the chain. Costs the memo's own events and their predecessors,
    not the whole chain."""
    events = (
        session.execute(
            select(AuditEvent)
            .where(AuditEvent.memo_id == memo.id)
            .where(AuditEvent.organisation_id == memo.organisation_id)
            .order_by(AuditEvent.seq)
        )
        .scalars()
        .all()
    )
    return _checked(session, memo.organisation_id, events)


def organisation_timeline(
    session: Session, organisation_id: int, *, before_seq: int | None = None, limit: int = 50
) -> list[EventCheck]:
    """The organisation's own events — those of no memo: accounts, tokens, the route, its
    settings, authorisations — newest first, at most ``limit`` before ``before_seq``, each
    checked as ``memo_timeline`` checks a memo's. Read from ``ix_audit_event_own`` (a
    partial index of these events only), so the memos' many events are not walked."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.memo_id.is_(None), AuditEvent.organisation_id == organisation_id)
        .order_by(AuditEvent.seq.desc())
        .limit(limit)
    )
    if before_seq is not None:
        query = query.where(AuditEvent.seq < before_seq)
    return _checked(session, organisation_id, session.execute(query).scalars().all())


def _checked(
    session: Session, organisation_id: int, events: Sequence[AuditEvent]
) -> list[EventCheck]:
    """Each event with whether its hash recomputes and its prev_hash is the hash of the
    event before it in the organisation's chain (read for these events only)."""
    wanted = [event.seq - 1 for event in events if event.seq > 1]
    predecessors: dict[int, str] = {0: GENESIS_HASH}
    if wanted:
        rows = session.execute(
            select(AuditEvent.seq, AuditEvent.hash).where(
                AuditEvent.organisation_id == organisation_id, AuditEvent.seq.in_(wanted)
            )
        )
        predecessors.update({seq: hash_ for seq, hash_ in rows})
    return [
        EventCheck(
            event=event,
            hash_ok=event_hash(event) == event.hash,
            linked=predecessors.get(event.seq - 1) == event.prev_hash,
        )
        for event in events
    ]


# --- export ---------------------------------------------------------------------------


def export_lines(session: Session) -> Iterable[str]:
    """The chain as JSON lines: each line is the canonical record plus its ``hash``."""
    for event in _events_in_order(session):
        record = event_record(event)
        record["hash"] = event.hash
        yield canonical_json(record)


def export(session: Session, out: IO[str]) -> int:
    count = 0
    for line in export_lines(session):
        out.write(line + "\n")
        count += 1
    return count


def export_to_path(session: Session, path: str | Path) -> int:
    with open(path, "w", encoding="utf-8") as out:
        return export(session, out)
