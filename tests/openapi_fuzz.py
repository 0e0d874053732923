"""What the two Schemathesis runs share: the in-process one (tests/security/test_fuzz_api.py)
and the one through the served stack (tests/served/test_served_fuzz.py). Imported only by
those modules, after they have skipped when Schemathesis is missing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from models.idempotency import KEY_LIMIT

# Where a request's validity depends on more than its shape, no OpenAPI schema can say it,
# and a request the document allows may rightly get a 422: an upload's contents must match
# its name (workflow.files); an authorisation names a user and a step that must exist; an
# action needs what the memo's state and contents allow (submit needs the memo's facts and
# proposal filled in, endorse an opinion: the document says so in words). There "valid
# data is accepted" is not checked; every other check is.
BEYOND_THE_SCHEMA = {
    ("POST", "/api/v1/memos/{memo_id}/attachments"),
    ("POST", "/api/v1/memos/{memo_id}/actions"),
    ("POST", "/api/v1/acting"),
}
KEY = "Idempotency-Key"


def auth_placement(
    token: str, mode: GenerationMode
) -> tuple[dict[str, str] | None, dict[str, str] | None]:
    """Where the token goes: (into the generated case, into each call).

    Positive cases: into the call, so Schemathesis knows it is valid and also sends each
    request without it and with a broken one, expecting 401 (the ignored_auth check).
    Negative cases: into the case, so that a case about the header (no token, a broken
    one) is sent as generated and gets its 401; ignored_auth is left to the positive run
    (``excluded_checks``), since it takes a token in the case for a generated, invalid one.
    """
    auth = {"Authorization": f"Bearer {token}"}
    return (auth, None) if mode == GenerationMode.NEGATIVE else (None, auth)


def excluded_checks(method: str, path: str, mode: GenerationMode) -> list[Callable[..., Any]]:
    excluded = []
    if (method.upper(), path) in BEYOND_THE_SCHEMA:
        excluded.append(positive_data_acceptance)
    if mode == GenerationMode.NEGATIVE:
        excluded.append(ignored_auth)
    return excluded


def is_valid_key(value: object) -> bool:
    """What the document allows for Idempotency-Key (1–255 characters, not blank)."""
    return isinstance(value, str) and 1 <= len(value) <= KEY_LIMIT and bool(value.strip())


def fresh_key(case: Any) -> None:
    """A new Idempotency-Key for a case whose generated key is valid. Generated keys repeat
    ("0", "00" ...) with different bodies, which the server rightly refuses (422
    idempotency_key_reused): a client means one key per request. An invalid generated key
    (a negative case about the header) is sent as generated."""
    if case.headers and KEY in case.headers and is_valid_key(case.headers[KEY]):
        case.headers[KEY] = str(uuid.uuid4())
