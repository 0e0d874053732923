"""The ``transitions`` state machine generated from a route, built once per route.

States: ``draft``, ``pending_<step key>`` for each step, ``returned``, ``signed``,
``rejected``, ``withdrawn``. The machine holds no memo: an action fires its trigger's
event on a thin holder of the memo's state and reads the state it arrived at; the verb
writes that state to the memo. Machines are cached by the tuple of
step keys, the only thing their shape depends on, so one organisation's route can never
leak into another's and an edited route simply gets its own machine.

No callback does I/O: the database transaction, not the machine, makes an action atomic.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from transitions import Machine, MachineError

from workflow.errors import InvalidTransition
from workflow.route import Route

DRAFT = "draft"
RETURNED = "returned"
SIGNED = "signed"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
FINAL_STATES = frozenset({SIGNED, REJECTED, WITHDRAWN})
EDITABLE_STATES = frozenset({DRAFT, RETURNED})

# Triggers; "return" is a Python keyword, so its trigger is "return_memo".
TRIGGER_FOR_ACTION = {
    "submit": "submit",
    "endorse": "endorse",
    "return": "return_memo",
    "sign": "sign",
    "reject": "reject",
    "withdraw": "withdraw",
}
ACTIONS = tuple(TRIGGER_FOR_ACTION)


class StateHolder:
    """What the machine sees of a memo: only its ``state``."""

    def __init__(self, state: str) -> None:
        self.state = state


def _definition(keys: tuple[str, ...]) -> tuple[list[str], list[dict[str, Any]]]:
    pending = [f"pending_{key}" for key in keys]
    states = [DRAFT, *pending, RETURNED, SIGNED, REJECTED, WITHDRAWN]
    transitions: list[dict[str, Any]] = [
        {"trigger": "submit", "source": [DRAFT, RETURNED], "dest": pending[0]},
        {"trigger": "return_memo", "source": pending, "dest": RETURNED},
        {"trigger": "sign", "source": pending[-1], "dest": SIGNED},
        {"trigger": "reject", "source": pending[-1], "dest": REJECTED},
        {"trigger": "withdraw", "source": [DRAFT, RETURNED, *pending], "dest": WITHDRAWN},
    ]
    for here, there in itertools.pairwise(pending):
        transitions.append({"trigger": "endorse", "source": here, "dest": there})
    return states, transitions


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
                states, transitions = _definition(keys)
                machine = Machine(
                    model=None,
                    states=states,
                    transitions=transitions,
                    initial=DRAFT,
                    auto_transitions=False,
                )
                _machines[keys] = machine
    return machine


def available_actions(route: Route, state: str) -> list[str]:
    """The actions the route allows from this state, whoever asks."""
    machine = machine_for(route)
    if state not in machine.states:
        return []
    triggers = set(machine.get_triggers(state))
    return [action for action, trigger in TRIGGER_FOR_ACTION.items() if trigger in triggers]


def fire(route: Route, state: str, action: str) -> str:
    """The state ``action`` leads to from ``state`` on the route's machine; raises
    InvalidTransition when the route does not allow it. Changes nothing else.

    The trigger's event is fired on the holder directly (``Event.trigger``): the event
    reads and writes only the holder's ``state``. Adding the holder to the shared machine
    as a model and removing it again, as ``add_model`` does, decorated it with a method
    per state and trigger on every action (six times the cost of the transition itself)
    and changed the machine's model list under concurrent requests."""
    machine = machine_for(route)
    holder = StateHolder(state)
    # A one-step route has no endorse event at all: not possible, like any other.
    event = machine.events.get(TRIGGER_FOR_ACTION[action])
    try:
        if event is None:
            raise MachineError(f"the route has no {action}")
        event.trigger(holder)
    except MachineError as error:
        raise InvalidTransition(
            f"{action} is not possible from {state}", action=action, state=state
        ) from error
    return str(holder.state)
