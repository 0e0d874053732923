"""Schemathesis against the API's own OpenAPI document (/api/v1/openapi.json), in-process
(WSGI), with the bearer token of a signed-in user (the author, the final signer, the
admin): for every operation, valid and
invalid requests generated from the document get no 5xx and no response that breaks
the document (status code, content type, body schema).

One test per operation and generation mode (positive: data the document allows;
negative: data it forbids). Bounded for CI: ``MAX_EXAMPLES`` per test
(``MEMOFLOW_FUZZ_EXAMPLES`` raises it for a longer run by hand). Marked ``slow``.

Schemathesis 4's pytest fixture loader does not run under pytest 9 (it reads a node
attribute pytest removed), so the tests draw cases from each operation's Hypothesis
strategy directly.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

# Both come with the test extra (pyproject.toml); without them the module says so and skips.
pytest.importorskip("hypothesis", reason="pip install -e '.[test]' (needs hypothesis)")
pytest.importorskip("schemathesis", reason="pip install -e '.[test]' (needs schemathesis)")

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from config import Config
from tests.conftest import ApiClient
from tests.openapi_fuzz import auth_placement, excluded_checks, fresh_key

MAX_EXAMPLES = int(os.environ.get("MEMOFLOW_FUZZ_EXAMPLES", "25"))

pytestmark = pytest.mark.slow


def documented_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the document, read from an app that is
    never connected to a database."""
    from webapp import create_app
    from webapp.db import database

    with tempfile.TemporaryDirectory() as home:
        app = create_app(Config(HOME=Path(home), DATABASE_URL="sqlite://", SECRET_KEY="x"))
        document = app.test_client().get("/api/v1/openapi.json").get_json()
        database(app).engine.dispose()
    return sorted(
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "post", "patch", "put", "delete")
    )


@pytest.fixture(params=["officer", "mayor", "admin"])
def fuzz_target(request: pytest.FixtureRequest, app: Any, api: ApiClient) -> tuple[Any, str]:
    """The app with memos in several states (so generated ids often hit one), and the
    token of the author, of the final signer or of the admin (each reaches other code)."""
    office = api.office
    office.create()
    office.submitted()
    office.signed()
    withdrawn = office.submitted()
    office.act("officer", "withdraw", withdrawn)
    pending_mayor = office.submitted()
    office.act("head", "endorse", pending_mayor, opinion="เห็นควร")
    office.act("palad", "endorse", pending_mayor, opinion="เห็นควร")
    return app, api.token(request.param)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize(("method", "path"), documented_operations())
def test_api_conforms_to_its_openapi_document(
    fuzz_target: tuple[Any, str], method: str, path: str, mode: GenerationMode
) -> None:
    app, token = fuzz_target
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]
    in_case, in_call = auth_placement(token, mode)

    @given(case=operation.as_strategy(generation_mode=mode, headers=in_case))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        fresh_key(case)
        case.call_and_validate(headers=in_call, excluded_checks=excluded_checks(method, path, mode))

    try:
        check()
    except Unsatisfiable:
        pytest.skip(f"{method} {path} has nothing but the token to make invalid")
