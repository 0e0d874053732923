"""The action table: every workflow action in one place.

One row per action says who may take it, whether it needs an opinion or a decision, the
moves it makes on a route (source state → target state, as functions of the route), what
else it does (its effects) and what it checks in the data before it may happen (its
guards). Everything else reads this table instead of restating it:

- ``workflow.machine`` generates each route's ``transitions`` machine from the moves;
- ``workflow.permissions`` tells author actions from step actions by ``actor``;
- ``workflow.actions.decisions`` (``perform`` and the verbs) checks the opinion, the
  decision and the guards and carries out the effects;
- ``workflow.audit`` replays a memo's events by the effects;
- ``webapp.api.schemas`` offers the table's names as the API's action choices.

Adding an action touches this table and its verb only. The table can say more than
today's six actions need (the routing work builds on it):

- a target chosen at run time: ``moves`` may give several targets from one source (say,
  return to any earlier step); such an action sets ``target_chosen`` and the caller names
  the target, which the machine checks as a condition of the transition;
- guards over data (open consultations, any N of M opinions): functions run by the verb
  on the locked memo before it moves; they refuse by raising a WorkflowError. They are not
  machine states, so a route's machine does not grow with them;
- actions that do not change state: a move whose target is ``STAY`` is an internal
  transition (the memo stays where it is, the action is still recorded).
"""

from __future__ import annotations

import itertools
import keyword
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING

from workflow.route import Route

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from models import Memo, User

# The states every route has; a route adds ``pending_<step key>`` for each of its steps.
DRAFT = "draft"
RETURNED = "returned"
SIGNED = "signed"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
FINAL_STATES = frozenset({SIGNED, REJECTED, WITHDRAWN})
EDITABLE_STATES = frozenset({DRAFT, RETURNED})

# A move's target that keeps the memo where it is (an internal transition).
STAY: None = None


class Actor(Enum):
    """Who may take an action."""

    AUTHOR = "author"  # the memo's author
    STEP = "step"  # whoever may act at the current step: its holder, or one acting for it
    ADMIN = "admin"  # an admin of the memo's organisation


class Opinion(Enum):
    """Whether the action takes an opinion (its text), and whether it must have one."""

    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


class Effect(Enum):
    """What an action does besides moving the memo."""

    TAKES_NUMBER = "takes_number"  # first time: register number, date and route snapshot
    CANCELS_NUMBER = "cancels_number"  # the memo's register number, if any, is cancelled
    NEW_ROUND = "new_round"  # the memo's round goes up by one (its author revises it)
    RECORDS_DECIDER = "records_decider"  # the actor is stored as the memo's decider
    WRITES_OPINION = "writes_opinion"  # an opinion row for the current step and round


@dataclass(frozen=True)
class GuardContext:
    """What a guard sees: the locked memo (its contents loaded), the actor, the route the
    memo follows and the target the caller chose (``target_chosen`` actions)."""

    session: Session
    memo: Memo
    actor: User
    route: Route
    target: str | None = None


# A guard refuses by raising a WorkflowError (a ValidationFailed, an InvalidTransition...).
Guard = Callable[[GuardContext], None]
Moves = Callable[[Route], Iterable[tuple[str, str | None]]]


@dataclass(frozen=True)
class Action:
    name: str
    actor: Actor
    moves: Moves  # (source, target) pairs on a route; target STAY keeps the state
    opinion: Opinion = Opinion.NONE
    decision: bool = False  # the actor chooses a models.Decision (sign)
    effects: frozenset[Effect] = frozenset()
    guards: tuple[Guard, ...] = ()
    target_chosen: bool = False  # several targets from a source: the caller names one

    @property
    def trigger(self) -> str:
        return trigger_of(self.name)

    def transitions(self, route: Route) -> list[tuple[str, str | None]]:
        return list(self.moves(route))


def trigger_of(name: str) -> str:
    """An action's trigger on the machine: its name, except that "return" (a Python
    keyword) triggers "return_memo"."""
    return f"{name}_memo" if keyword.iskeyword(name) else name


# --- moves, as functions of the route ---------------------------------------------------


def _pending(route: Route) -> list[str]:
    return [step.state for step in route.steps]


def _to_first_step(route: Route) -> Iterable[tuple[str, str | None]]:
    return [(DRAFT, route.steps[0].state), (RETURNED, route.steps[0].state)]


def _to_next_step(route: Route) -> Iterable[tuple[str, str | None]]:
    return itertools.pairwise(_pending(route))


def _any_step_to(target: str) -> Moves:
    return lambda route: [(state, target) for state in _pending(route)]


def _last_step_to(target: str) -> Moves:
    return lambda route: [(route.last.state, target)]


def _before_decision_to(target: str) -> Moves:
    return lambda route: [(state, target) for state in [DRAFT, RETURNED, *_pending(route)]]


# --- guards -------------------------------------------------------------------------------


def _fields_complete(context: GuardContext) -> None:
    """A memo goes on the route only with every field a submission needs."""
    from workflow.actions.fields import check_complete  # the verbs import this table

    check_complete(context.memo)


# --- the table ----------------------------------------------------------------------------

_ACTIONS = (
    Action(
        "submit",
        Actor.AUTHOR,
        _to_first_step,
        effects=frozenset({Effect.TAKES_NUMBER}),
        guards=(_fields_complete,),
    ),
    Action(
        "endorse",
        Actor.STEP,
        _to_next_step,
        opinion=Opinion.REQUIRED,
        effects=frozenset({Effect.WRITES_OPINION}),
    ),
    Action(
        "return",
        Actor.STEP,
        _any_step_to(RETURNED),
        opinion=Opinion.REQUIRED,
        effects=frozenset({Effect.WRITES_OPINION, Effect.NEW_ROUND}),
    ),
    Action(
        "sign",
        Actor.STEP,
        _last_step_to(SIGNED),
        opinion=Opinion.OPTIONAL,
        decision=True,
        effects=frozenset({Effect.WRITES_OPINION, Effect.RECORDS_DECIDER}),
    ),
    Action(
        "reject",
        Actor.STEP,
        _last_step_to(REJECTED),
        opinion=Opinion.REQUIRED,
        effects=frozenset({Effect.WRITES_OPINION, Effect.RECORDS_DECIDER}),
    ),
    Action(
        "withdraw",
        Actor.AUTHOR,
        _before_decision_to(WITHDRAWN),
        effects=frozenset({Effect.CANCELS_NUMBER}),
    ),
)

ACTION_TABLE: Mapping[str, Action] = MappingProxyType({action.name: action for action in _ACTIONS})
ACTION_NAMES = tuple(ACTION_TABLE)


def actions_by(actor: Actor, table: Mapping[str, Action] = ACTION_TABLE) -> frozenset[str]:
    """The names of the actions this kind of actor takes."""
    return frozenset(name for name, action in table.items() if action.actor is actor)


def actions_with(effect: Effect, table: Mapping[str, Action] = ACTION_TABLE) -> tuple[str, ...]:
    """The names of the actions with this effect, in the table's order."""
    return tuple(name for name, action in table.items() if effect in action.effects)


def states_of(route: Route) -> list[str]:
    """Every state of a route's machine."""
    return [DRAFT, *_pending(route), RETURNED, SIGNED, REJECTED, WITHDRAWN]


def choice_error() -> dict[str, str]:
    """The ValidationFailed errors for an unknown action name."""
    return {"action": "choice:" + ",".join(ACTION_TABLE)}
