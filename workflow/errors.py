"""One exception hierarchy for every refusal of the service API.

Each error carries a stable English ``code`` and the parameters a message needs; the web
layer turns it into one HTTP status and one message in the reader's language.
"""

from __future__ import annotations

from typing import Any


class WorkflowError(Exception):
    code = "workflow_error"
    status = 400

    def __init__(self, detail: str = "", **params: Any) -> None:
        super().__init__(detail or self.code)
        self.detail = detail
        self.params = params


class NotFound(WorkflowError):
    """The memo does not exist, or the actor may not see it (both look the same)."""

    code = "not_found"
    status = 404


class NotAllowed(WorkflowError):
    """The actor may not do this; ``params['may_act']`` names who may, when someone may."""

    code = "not_allowed"
    status = 403


class InvalidTransition(WorkflowError):
    """The action does not apply to the memo's current state."""

    code = "invalid_transition"
    status = 409


class StaleVersion(WorkflowError):
    """The memo changed since the actor saw it."""

    code = "stale_version"
    status = 409


class AlreadyDecided(WorkflowError):
    """Somebody already decided this step of this round."""

    code = "already_decided"
    status = 409


class ValidationFailed(WorkflowError):
    """Input that was understood but is not acceptable; ``errors`` maps field to reason."""

    code = "validation_failed"
    status = 422

    def __init__(self, errors: dict[str, str], detail: str = "") -> None:
        super().__init__(detail or "; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class RouteError(WorkflowError):
    """A route definition that cannot be used."""

    code = "invalid_route"
    status = 422
