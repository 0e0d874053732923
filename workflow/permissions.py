"""Who may see a memo and who may do what to it. Every verb checks here; views only ask.

- Only the author edits, submits or withdraws.
- Only a holder of the current step's role acts at that step; an admin manages users and
  routes but never decides.
- A memo never submitted is seen by its author alone. Once submitted it is seen by its
  author, by holders of a role on its route and by admins, except that a secret memo
  (ลับ, ลับมาก, ลับที่สุด) is hidden from admins too. To anyone else it does not exist.
"""

from __future__ import annotations

from models import Memo, Secrecy, User
from workflow.errors import InvalidTransition, NotAllowed
from workflow.machine import EDITABLE_STATES, available_actions
from workflow.route import Route, Step, parse_route

AUTHOR_ACTIONS = frozenset({"submit", "withdraw"})
STEP_ACTIONS = frozenset({"endorse", "return", "sign", "reject"})


def organisation_route(memo: Memo) -> Route:
    return parse_route(memo.organisation.route)


def memo_route(memo: Memo) -> Route:
    """The route the memo follows: its snapshot, or (before its first submission) the
    organisation's route as it would apply to this author."""
    if memo.route_snapshot:
        return parse_route(memo.route_snapshot)
    return organisation_route(memo).without_roles_of(memo.author.role)


def current_step(memo: Memo) -> Step | None:
    return memo_route(memo).step_for_state(memo.state)


def can_see(user: User, memo: Memo) -> bool:
    if not user.active or user.organisation_id != memo.organisation_id:
        return False
    if user.id == memo.author_id:
        return True
    if memo.route_snapshot is None:
        return False
    if user.is_admin:
        return memo.secrecy == Secrecy.normal.value
    return user.role in memo_route(memo).roles


def holds_step(user: User, step: Step) -> bool:
    return user.active and not user.is_admin and user.role == step.role


def allowed_actions(memo: Memo, user: User) -> list[str]:
    """The workflow actions ``user`` may take on ``memo`` now."""
    if not user.active:
        return []
    route = memo_route(memo)
    possible = available_actions(route, memo.state)
    step = route.step_for_state(memo.state)
    allowed = []
    for action in possible:
        if (action in AUTHOR_ACTIONS and user.id == memo.author_id) or (
            action in STEP_ACTIONS and step is not None and holds_step(user, step)
        ):
            allowed.append(action)
    return allowed


def can_edit(memo: Memo, user: User) -> bool:
    return user.active and user.id == memo.author_id and memo.state in EDITABLE_STATES


def check_author(memo: Memo, user: User, action: str) -> None:
    if user.id != memo.author_id or not user.active:
        raise NotAllowed(
            f"only the author may {action}",
            action=action,
            may_act=memo.author.full_name,
            may_act_position=memo.author.position,
        )


def check_step_actor(memo: Memo, user: User, action: str) -> Step:
    """The current step, if ``user`` may act on it; otherwise the right refusal."""
    route = memo_route(memo)
    step = route.step_for_state(memo.state)
    if step is None:
        raise InvalidTransition(
            f"{action} is not possible from {memo.state}", action=action, state=memo.state
        )
    if not holds_step(user, step):
        raise NotAllowed(
            f"only {step.title} may act at this step",
            action=action,
            may_act=step.title,
            role=step.role,
        )
    return step
