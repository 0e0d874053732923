"""Routes as data: an ordered list of steps, each with a key, the role that acts there and
the Thai label of its opinion block. The last step is the final signer's.

A route lives on the organisation (JSON); files in ``workflow/routes/`` are templates an
admin can load with ``memoflow route set FILE``. A memo keeps a snapshot of the route it
was first submitted with, so editing a route affects later submissions only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from workflow.errors import RouteError

ROUTES_DIR = Path(__file__).parent / "routes"
STEP_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
RESERVED_ROLES = {"admin"}


@dataclass(frozen=True)
class Step:
    key: str
    role: str
    label: str  # heading of the opinion block, e.g. "ความเห็นหัวหน้าสำนักปลัด"
    title: str  # the position that acts, e.g. "หัวหน้าสำนักปลัด"

    @property
    def state(self) -> str:
        return f"pending_{self.key}"

    def as_data(self) -> dict[str, str]:
        return {"key": self.key, "role": self.role, "label": self.label, "title": self.title}


@dataclass(frozen=True)
class Route:
    steps: tuple[Step, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(step.key for step in self.steps)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(step.role for step in self.steps)

    @property
    def last(self) -> Step:
        return self.steps[-1]

    def step_for_state(self, state: str) -> Step | None:
        for step in self.steps:
            if step.state == state:
                return step
        return None

    def is_last(self, step: Step) -> bool:
        return step.key == self.last.key

    def as_data(self) -> list[dict[str, str]]:
        return [step.as_data() for step in self.steps]

    def without_roles_of(self, author_role: str) -> Route:
        """The route a memo by an author with this role follows: steps the author holds
        are skipped, except the final signer's (somebody must decide)."""
        kept = tuple(
            step for step in self.steps if step.role != author_role or step.key == self.last.key
        )
        return Route(kept)


def parse_route(data: Any, organisation_name: str = "") -> Route:
    """Validate route data (a list of steps, or ``{"steps": [...]}``) and build a Route.

    ``{organisation}`` in labels and titles is replaced by the organisation's name.
    """
    # Every decision reads its memo's route snapshot, often more than once, and there
    # are only a few distinct routes: data seen before gives the Route built then (a
    # Route cannot change). Only valid data is remembered, and only text values.
    frozen = _frozen(data)
    if frozen is None:
        return _build_route(data, organisation_name)
    return _remembered_route(frozen, organisation_name)


def _frozen(data: Any) -> tuple[tuple[tuple[str, str], ...], ...] | None:
    """A list of steps of text values as a hashable key; None for anything else."""
    if not isinstance(data, list):
        return None
    frozen = []
    for item in data:
        if not isinstance(item, dict):
            return None
        pairs = tuple(item.items())
        if not all(isinstance(key, str) and isinstance(value, str) for key, value in pairs):
            return None
        frozen.append(pairs)
    return tuple(frozen)


@lru_cache(maxsize=512)
def _remembered_route(
    frozen: tuple[tuple[tuple[str, str], ...], ...], organisation_name: str
) -> Route:
    return _build_route([dict(pairs) for pairs in frozen], organisation_name)


def _build_route(data: Any, organisation_name: str) -> Route:
    if isinstance(data, dict):
        data = data.get("steps")
    if not isinstance(data, list) or not data:
        raise RouteError("a route needs a non-empty list of steps")
    steps: list[Step] = []
    for index, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise RouteError(f"step {index} is not an object")
        key, role = item.get("key"), item.get("role")
        if not isinstance(key, str) or not STEP_KEY.match(key):
            raise RouteError(f"step {index}: key must be lower-case letters, digits and _")
        if not isinstance(role, str) or not role.strip() or role in RESERVED_ROLES:
            raise RouteError(f"step {index}: role must be set and not 'admin'")
        label = item.get("label") or ""
        title = item.get("title") or role
        if not isinstance(label, str) or not isinstance(title, str):
            raise RouteError(f"step {index}: label and title must be text")
        steps.append(
            Step(
                key=key,
                role=role.strip(),
                label=label.replace("{organisation}", organisation_name),
                title=title.replace("{organisation}", organisation_name),
            )
        )
    keys = [step.key for step in steps]
    if len(set(keys)) != len(keys):
        raise RouteError("step keys must be unique")
    return Route(tuple(steps))


def load_route_file(path: str | Path, organisation_name: str = "") -> Route:
    """Read a route template from a JSON file (see workflow/routes/)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RouteError(f"cannot read route file {path}: {error}") from error
    return parse_route(data, organisation_name)


def default_route(organisation_name: str) -> Route:
    return load_route_file(ROUTES_DIR / "default.json", organisation_name)
