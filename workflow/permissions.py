"""Who may see a memo and who may do what to it. Every verb checks here; views only ask.

- Only the author edits, submits or withdraws.
- At a step, the holder of the step's role acts, or someone with an authorisation in force
  to act for that role (workflow.acting). While a holder is absent (รักษาราชการแทน,
  รักษาการในตำแหน่ง in force) only the acting person acts there. An admin manages users,
  routes and authorisations but never decides.
- A memo never submitted is seen by its author alone. Once submitted it is seen by its
  author, by holders of a role on its route (and whoever acts for one of them) and by
  admins, except that a secret memo (ลับ, ลับมาก, ลับที่สุด) is hidden from admins too. To
  anyone else it does not exist.

The session, where one is needed to look up authorisations, is the memo's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, object_session

from models import Authorisation, Memo, Secrecy, User
from workflow import action_table
from workflow.acting import acting_for, holder_absent
from workflow.action_table import Actor, actions_by
from workflow.errors import InvalidTransition, NotAllowed
from workflow.machine import EDITABLE_STATES, available_actions
from workflow.route import Route, Step, parse_route

if TYPE_CHECKING:  # workflow.queries imports this module
    from workflow.queries import MemoHeading

# Who takes which action, as the action table says.
AUTHOR_ACTIONS = actions_by(Actor.AUTHOR)
STEP_ACTIONS = actions_by(Actor.STEP)
ADMIN_ACTIONS = actions_by(Actor.ADMIN)


@dataclass(frozen=True)
class Standing:
    """Why someone may act at a step: their own post, or an authorisation."""

    authorisation: Authorisation | None = None

    @property
    def capacity(self) -> str | None:
        return self.authorisation.capacity if self.authorisation else None

    @property
    def order_ref(self) -> str | None:
        return self.authorisation.order_ref if self.authorisation else None


def organisation_route(memo: Memo | MemoHeading) -> Route:
    return parse_route(memo.organisation.route)


def memo_route(memo: Memo | MemoHeading) -> Route:
    """The route the memo follows: its snapshot, or (before its first submission) the
    organisation's route as it would apply to this author. A list's heading of a memo
    will do: it carries the snapshot, the organisation and the author's role."""
    if memo.route_snapshot:
        return parse_route(memo.route_snapshot)
    return organisation_route(memo).without_roles_of(memo.author.role)


def roles_of(session: Session | None, user: User) -> set[str]:
    """The roles ``user`` may act in today: their own and those acted for."""
    return {user.role, *acting_for(session, user)}


def can_see(user: User, memo: Memo) -> bool:
    if not user.active or user.organisation_id != memo.organisation_id:
        return False
    if user.id == memo.author_id:
        return True
    if memo.route_snapshot is None:
        return False
    if user.is_admin:
        return memo.secrecy == Secrecy.normal.value
    return bool(roles_of(object_session(memo), user) & memo_route(memo).roles)


def standing_at(memo: Memo, user: User, step: Step) -> Standing | None:
    """How ``user`` may act at ``step`` of ``memo`` today, or None if they may not."""
    if not user.active or user.is_admin or user.organisation_id != memo.organisation_id:
        return None
    session = object_session(memo)
    if user.role == step.role:
        if holder_absent(session, memo.organisation_id, step.role) is not None:
            return None
        return Standing()
    authorisation = acting_for(session, user).get(step.role)
    return Standing(authorisation) if authorisation is not None else None


def allowed_actions(memo: Memo, user: User) -> list[str]:
    """The workflow actions ``user`` may take on ``memo`` now."""
    if not user.active:
        return []
    route = memo_route(memo)
    possible = available_actions(route, memo.state)
    step = route.step_for_state(memo.state)
    may_decide = step is not None and standing_at(memo, user, step) is not None
    may = {
        Actor.AUTHOR: user.id == memo.author_id,
        Actor.STEP: may_decide,
        Actor.ADMIN: is_admin_of(user, memo),
    }
    return [action for action in possible if may[action_table.ACTION_TABLE[action].actor]]


def is_admin_of(user: User, memo: Memo) -> bool:
    return user.active and user.is_admin and user.organisation_id == memo.organisation_id


def can_create_memo(user: User) -> bool:
    """Anyone active may write a memo, except an admin (who manages, never takes part)."""
    return user.active and not user.is_admin


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


def check_admin(memo: Memo, user: User, action: str) -> None:
    if not is_admin_of(user, memo):
        raise NotAllowed(f"only an admin may {action}", action=action)


def who_may_act(memo: Memo, step: Step) -> str:
    """The position (and the acting person, when the holder is absent) for messages."""
    stand_in = holder_absent(object_session(memo), memo.organisation_id, step.role)
    if stand_in is not None:
        return f"{stand_in.acting_user.full_name} ({stand_in.capacity}{step.title})"
    return step.title


def check_step_actor(memo: Memo, user: User, action: str) -> tuple[Step, Standing]:
    """The current step and the actor's standing there; otherwise the right refusal:
    InvalidTransition when the memo is at no step, AlreadyDecided-style conflicts are the
    caller's, NotAllowed naming who may act."""
    step = memo_route(memo).step_for_state(memo.state)
    if step is None:
        raise InvalidTransition(
            f"{action} is not possible from {memo.state}", action=action, state=memo.state
        )
    standing = standing_at(memo, user, step)
    if standing is None:
        raise NotAllowed(
            f"only {step.title} may act at this step",
            action=action,
            may_act=who_may_act(memo, step),
            role=step.role,
        )
    return step, standing
