"""The ``transitions`` state machine generated from a route and the action table
(workflow.action_table), built once per route.

States: ``draft``, ``pending_<step key>`` for each step, ``returned``, ``signed``,
``rejected``, ``withdrawn``; transitions: each action's moves on the route. The machine
holds no memo: an action fires its trigger's event on a thin holder of the memo's state
and reads the state it arrived at; the verb writes that state to the memo. Machines are
cached by the tuple of step keys, the only thing their shape depends on, so one
organisation's route can never leak into another's and an edited route simply gets its
own machine.

No callback does I/O: the database transaction, not the machine, makes an action atomic.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from transitions import Machine, MachineError

from workflow import action_table
from workflow.action_table import (
    ACTION_TABLE,
    DRAFT,
    EDITABLE_STATES,
    FINAL_STATES,
    REJECTED,
    RETURNED,
    SIGNED,
    WITHDRAWN,
    Action,
    states_of,
    trigger_of,
)
from workflow.errors import InvalidTransition
from workflow.route import Route

__all__ = [
    "ACTIONS",
    "DRAFT",
    "EDITABLE_STATES",
    "FINAL_STATES",
    "REJECTED",
    "RETURNED",
    "SIGNED",
    "TRIGGER_FOR_ACTION",
    "WITHDRAWN",
    "available_actions",
    "build_machine",
    "fire",
    "machine_for",
]

TRIGGER_FOR_ACTION = {name: action.trigger for name, action in ACTION_TABLE.items()}
ACTIONS = tuple(TRIGGER_FOR_ACTION)


class StateHolder:
    """What the machine sees of a memo: only its ``state``."""

    def __init__(self, state: str) -> None:
        self.state = state


class _TargetIs:
    """The condition of a transition to a target chosen at run time: the caller named it."""

    def __init__(self, target: str | None) -> None:
        self.target = target

    def __call__(self, *args: Any, target: str | None = None, **kwargs: Any) -> bool:
        return target == self.target


def _definition(
    route: Route, table: Mapping[str, Action]
) -> tuple[list[str], list[dict[str, Any]]]:
    """The machine's states and transitions: each action's moves on this route."""
    transitions: list[dict[str, Any]] = []
    for action in table.values():
        for source, target in action.transitions(route):
            transition: dict[str, Any] = {"trigger": action.trigger, "source": source}
            # A target of STAY (None) is an internal transition: the state stays.
            transition["dest"] = target
            if action.target_chosen:
                transition["conditions"] = [_TargetIs(target)]
            transitions.append(transition)
    return states_of(route), transitions


def build_machine(route: Route, table: Mapping[str, Action] | None = None) -> Machine:
    """A new machine for this route from the action table (``machine_for`` caches)."""
    states, transitions = _definition(route, table or action_table.ACTION_TABLE)
    return Machine(
        model=None,
        states=states,
        transitions=transitions,
        initial=DRAFT,
        auto_transitions=False,
    )


_machines: dict[tuple[str, ...], Machine] = {}
_machines_lock = threading.Lock()


def machine_for(route: Route) -> Machine:
    """The machine for this route's shape, built on first use and then reused."""
    keys = route.keys
    machine = _machines.get(keys)
    if machine is None:
        with _machines_lock:
            machine = _machines.get(keys)
            if machine is None:
                machine = build_machine(route)
                _machines[keys] = machine
    return machine


def available_actions(route: Route, state: str) -> list[str]:
    """The actions the route allows from this state, whoever asks."""
    machine = machine_for(route)
    if state not in machine.states:
        return []
    triggers = set(machine.get_triggers(state))
    return [
        name for name, action in action_table.ACTION_TABLE.items() if action.trigger in triggers
    ]


def fire(
    route: Route,
    state: str,
    action: str,
    *,
    target: str | None = None,
    machine: Machine | None = None,
) -> str:
    """The state ``action`` leads to from ``state`` on the route's machine; raises
    InvalidTransition when the route does not allow it. Changes nothing else.

    The trigger's event is fired on the holder directly (``Event.trigger``): the event
    reads and writes only the holder's ``state``. Adding the holder to the shared machine
    as a model and removing it again, as ``add_model`` does, decorated it with a method
    per state and trigger on every action (six times the cost of the transition itself)
    and changed the machine's model list under concurrent requests.

    ``target``: the state chosen at run time, for an action whose table row has
    ``target_chosen``. ``machine``: a machine built from another table (tests)."""
    machine = machine or machine_for(route)
    holder = StateHolder(state)
    # A one-step route has no endorse event at all: not possible, like any other.
    event = machine.events.get(trigger_of(action))
    try:
        if event is None:
            raise MachineError(f"the route has no {action}")
        if not (event.trigger(holder) if target is None else event.trigger(holder, target=target)):
            raise MachineError(f"no {action} to {target} from {state}")
    except MachineError as error:
        raise InvalidTransition(
            f"{action} is not possible from {state}", action=action, state=state
        ) from error
    return str(holder.state)
