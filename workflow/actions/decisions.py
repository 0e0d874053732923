"""The route's actions: submit, endorse, return, sign, reject, withdraw, and ``perform``,
which takes any of them by name.

One body takes every action the table (workflow.action_table) lists: it locks the memo,
checks the version and the actor the table names, the opinion and the decision the table
asks for and the table's guards, fires the trigger on the route's machine, carries out
the table's effects and records the event. The named verbs are the table's rows given a
Python signature.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from models import Decision, Memo, MemoRouteRole, Opinion, User
from workflow import action_table, clock, register
from workflow.action_table import (
    Action,
    Actor,
    Effect,
    GuardContext,
    choice_error,
)
from workflow.action_table import Opinion as OpinionRule
from workflow.actions.core import (
    OPINION_LIMIT,
    check_version,
    insert_as_stored,
    load_contents,
    lock_memo,
    moved,
    record,
    write_memo,
)
from workflow.canonical import sha256_hex
from workflow.content import decision_hash, encoded_document
from workflow.errors import AlreadyDecided, NotAllowed, ValidationFailed
from workflow.machine import fire
from workflow.opinion_record import OpinionRecord
from workflow.permissions import check_admin, check_author, check_step_actor, memo_route
from workflow.prepared import Prepared
from workflow.route import Route
from workflow.validation import check_text, normalise_newlines

_OPINION = cast(Table, Opinion.__table__)
_INSERT_OPINION = Prepared(insert(_OPINION).returning(_OPINION.c.id), by_keys=True, writing=True)
_INSERT_ROUTE_ROLE = Prepared(
    insert(cast(Table, MemoRouteRole.__table__)), by_keys=True, writing=True
)
_DECISIONS = tuple(d.value for d in Decision)


def perform(
    session: Session,
    memo_id: int,
    actor: User,
    action: str,
    opinion: str | None = None,
    decision: str | None = None,
    version: int | None = None,
    target: str | None = None,
) -> Memo:
    """Take one workflow action by name (the API's and the forms' single entry).
    ``target``: the state chosen, for an action whose target is chosen at run time."""
    spec = action_table.ACTION_TABLE.get(action)
    if spec is None:
        raise ValidationFailed(choice_error())
    memo = lock_memo(session, memo_id, actor)
    check_version(memo, version)
    if spec.actor is Actor.STEP:
        return _decide(session, memo, actor, spec, opinion, decision, target)
    if spec.actor is Actor.AUTHOR:
        check_author(memo, actor, action)
    else:
        check_admin(memo, actor, action)
    return _move(session, memo, actor, spec, opinion, target)


def submit(session: Session, memo_id: int, actor: User, version: int | None = None) -> Memo:
    """Send a draft or returned memo to the first step. The first submission fixes the
    route snapshot, takes the next register number and dates the memo."""
    return perform(session, memo_id, actor, "submit", version=version)


def endorse(
    session: Session, memo_id: int, actor: User, opinion: str, version: int | None = None
) -> Memo:
    """Write an opinion at the current (not last) step, sign it and pass the memo on."""
    return perform(session, memo_id, actor, "endorse", opinion, version=version)


def return_memo(
    session: Session, memo_id: int, actor: User, reason: str, version: int | None = None
) -> Memo:
    """Send the memo back to its author for revision; a new round starts."""
    return perform(session, memo_id, actor, "return", reason, version=version)


def sign(
    session: Session,
    memo_id: int,
    actor: User,
    decision: str,
    opinion: str = "",
    version: int | None = None,
) -> Memo:
    """The final signer's decision: acknowledged (ทราบ), approved (อนุมัติ), agreed (เห็นชอบ)."""
    return perform(session, memo_id, actor, "sign", opinion, decision, version)


def reject(
    session: Session, memo_id: int, actor: User, reason: str, version: int | None = None
) -> Memo:
    """The final signer's refusal (ไม่อนุมัติ); a reason is required."""
    return perform(session, memo_id, actor, "reject", reason, version=version)


def withdraw(session: Session, memo_id: int, actor: User, version: int | None = None) -> Memo:
    """The author cancels the memo before it is decided; its number stays, cancelled."""
    return perform(session, memo_id, actor, "withdraw", version=version)


# --- the one body -------------------------------------------------------------------------


def _next_state(
    memo: Memo, spec: Action, route: Route, target: str | None
) -> tuple[str, str, str | None]:
    """Fire the action on the route's machine: (state before, state after, the role that
    must act in the state after)."""
    after = fire(route, memo.state, spec.name, target=target)
    step = route.step_for_state(after)
    return memo.state, after, step.role if step is not None else None


def _checked_opinion(spec: Action, text: str | None) -> str | None:
    """The opinion's text as stored, if the action takes one; ValidationFailed if bad."""
    if spec.opinion is OpinionRule.NONE:
        return None
    text = normalise_newlines(text or "")
    if problem := check_text(text, OPINION_LIMIT, required=spec.opinion is OpinionRule.REQUIRED):
        raise ValidationFailed({"opinion": problem})
    return text


def _check_guards(
    session: Session, memo: Memo, actor: User, spec: Action, route: Route, target: str | None
) -> None:
    if spec.guards:
        context = GuardContext(session, memo, actor, route, target)
        for guard in spec.guards:
            guard(context)


def _move(
    session: Session,
    memo: Memo,
    actor: User,
    spec: Action,
    text: str | None,
    target: str | None,
) -> Memo:
    """An action of the author (or an admin): no step, no opinion row."""
    route = memo_route(memo)
    before, after, pending_role = _next_state(memo, spec, route, target)
    _check_guards(session, memo, actor, spec, route, target)
    opinion = _checked_opinion(spec, text)
    load_contents(session, memo, opinions=False)  # the audit event's document hash
    changes: dict[str, Any] = {}
    details: dict[str, Any] = {}
    if Effect.TAKES_NUMBER in spec.effects and memo.route_snapshot is None:
        # The first submission: number, date and the route the memo will follow.
        changes |= register.issue_number(session, memo)
        changes["route_snapshot"] = route.as_data()
        _INSERT_ROUTE_ROLE.many(
            session,
            [
                {"memo_id": memo.id, "role": role, "organisation_id": memo.organisation_id}
                for role in sorted(route.roles)
            ],
        )
    if Effect.CANCELS_NUMBER in spec.effects and memo.number is not None:
        register.cancel_number(session, memo)
    if Effect.NEW_ROUND in spec.effects:
        changes["round"] = memo.round + 1
    if Effect.RECORDS_DECIDER in spec.effects:
        changes["decided_by_id"] = actor.id
    changes |= moved(memo, after, pending_role, clock.utcnow_naive())
    write_memo(session, memo, changes)
    if Effect.TAKES_NUMBER in spec.effects:
        details |= {
            "number": memo.number,
            "date": memo.date.isoformat() if memo.date else None,
            "round": memo.round,
        }
    if Effect.CANCELS_NUMBER in spec.effects:
        details["cancelled_number"] = memo.number
    record(session, memo, actor, spec.name, (before, after), opinion=opinion, details=details)
    return memo


def _refuse_second_decision(memo: Memo, actor: User, error: NotAllowed) -> None:
    """Someone who may not act at the current step but already decided a step of their
    role in this round gets a conflict (409), not a refusal: typically a second click, or
    a colleague of the same role who was faster. Otherwise the refusal stands."""
    decided_roles = {
        step.role
        for step in memo_route(memo).steps
        for opinion in memo.opinions
        if opinion.round == memo.round and opinion.step == step.key
    }
    if actor.role in decided_roles:
        raise AlreadyDecided(
            "this step was already decided in this round", state=memo.state
        ) from error
    raise error


def _write_opinion(session: Session, memo: Memo, values: dict[str, Any]) -> Opinion:
    """Insert the opinion and add it to ``memo.opinions`` as a stored object."""
    try:
        opinion: Opinion = insert_as_stored(session, _INSERT_OPINION, Opinion, values)
    except IntegrityError as error:
        # The named unique constraint is the last line of defence against a double decision.
        raise AlreadyDecided("this step was already decided in this round") from error
    set_committed_value(memo, "opinions", [*memo.opinions, opinion])
    return opinion


def _decide(
    session: Session,
    memo: Memo,
    actor: User,
    spec: Action,
    text: str | None,
    decision: str | None,
    target: str | None,
) -> Memo:
    """An action at the current step (endorse, return, sign, reject): the step's opinion,
    bound to the document it was made on."""
    try:
        step, standing = check_step_actor(memo, actor, spec.name)
    except NotAllowed as refusal:
        _refuse_second_decision(memo, actor, refusal)
        raise
    opinion = _checked_opinion(spec, text)
    if spec.decision and decision not in _DECISIONS:
        raise ValidationFailed({"decision": "choice:" + ",".join(_DECISIONS)})
    writes_opinion = Effect.WRITES_OPINION in spec.effects
    # The opinions are loaded after the memo was locked, so nobody can add one meanwhile;
    # the decision hash below needs them anyway. The unique constraint stays the last line.
    load_contents(session, memo)
    if writes_opinion and any(o.round == memo.round and o.step == step.key for o in memo.opinions):
        raise AlreadyDecided("this step was already decided in this round")
    round_ = memo.round
    # The document is encoded once, for the decision hash and for the audit event.
    document = encoded_document(memo)
    route = memo_route(memo)
    before, after, pending_role = _next_state(memo, spec, route, target)
    _check_guards(session, memo, actor, spec, route, target)
    now = clock.utcnow_naive()
    details: dict[str, Any] = {"round": round_, "step": step.key}
    if writes_opinion:
        made = OpinionRecord(
            round=round_,
            step=step.key,
            action=spec.name,
            actor_id=actor.id,
            actor_name=actor.full_name,
            actor_position=actor.position,
            text=opinion or "",
            decision=decision if spec.decision else None,
            capacity=standing.capacity,
            acting_for=step.title if standing.authorisation else None,
            order_ref=standing.order_ref,
            content_hash=decision_hash(memo, round_, encoded=document),
        )
        _write_opinion(session, memo, made.row(memo.id, now))
        details = made.event_details()
    changes = moved(memo, after, pending_role, now)
    if Effect.NEW_ROUND in spec.effects:
        changes["round"] = round_ + 1
    if Effect.RECORDS_DECIDER in spec.effects:
        changes["decided_by_id"] = actor.id
    write_memo(session, memo, changes)
    record(
        session,
        memo,
        actor,
        spec.name,
        (before, after),
        opinion=opinion,
        details=details,
        content_hash=sha256_hex(document),
    )
    return memo
