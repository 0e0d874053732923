"""Schemathesis against the served stack (``memoflow serve``: gunicorn, two workers), with
an officer's and a mayor's token: every operation of /api/v1/openapi.json with data the
document allows and data it forbids, then scenarios that follow the document's links (a
new memo → edit, act on, attach to it; the inbox → sign its first memo). All of
Schemathesis's checks; any 5xx or any answer that breaks the document fails.

tests/security/test_fuzz_api.py fuzzes the app in-process (the WSGI app, more examples);
this one goes through what users run: gunicorn's parsing, its workers, the real commit
point, a database shared by two processes. Bounded for CI (``slow``: the PostgreSQL pass
runs it, in about a minute): ``MEMOFLOW_FUZZ_EXAMPLES`` examples per operation and mode,
``MEMOFLOW_FUZZ_SCENARIOS`` scenarios per token; raise them for a longer run by hand.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("hypothesis", reason="pip install -e '.[test]' (needs hypothesis)")
pytest.importorskip("schemathesis", reason="pip install -e '.[test]' (needs schemathesis)")
pytest.importorskip("requests", reason="pip install -e '.[test]' (needs requests)")

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from tests.openapi_fuzz import auth_placement, excluded_checks, fresh_key
from tests.served.server import ServedStack, database_of_its_own, serve

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("MEMOFLOW_FUZZ_EXAMPLES", "12"))
SCENARIOS = int(os.environ.get("MEMOFLOW_FUZZ_SCENARIOS", "50"))
SCENARIO_STEPS = 8
# A PDF is rendered by Chromium while the fuzzer keeps both cores busy.
TIMEOUT_S = 60
USERS = ("officer", "mayor")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedStack]:
    """A served stack of its own (the fuzzer creates hundreds of memos)."""
    with (
        database_of_its_own("fuzz") as database_url,
        serve(tmp_path_factory.mktemp("fuzz"), database_url=database_url) as stack,
    ):
        yield stack


@pytest.fixture(scope="module")
def tokens(stack: ServedStack) -> dict[str, str]:
    """A token per user of the route, and memos in several states (so generated ids often
    hit one, and the mayor's inbox has a memo to sign): a draft, one waiting for the
    mayor, one signed, one withdrawn."""
    tokens = {user: stack.token(user) for user in ("officer", "head", "palad", "mayor")}

    def call(user: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = requests.post(
            f"{stack.url}/api/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {tokens[user]}"},
            timeout=60,
        )
        assert answer.status_code < 300, f"{answer.text}\n{stack.log_tail()}"
        return dict(answer.json())

    fields = {
        "unit": "สำนักปลัด",
        "subject": "ขออนุมัติจัดซื้อวัสดุสำนักงาน",
        "to": "นายกองค์การบริหารส่วนตำบลควนขนุน",
        "facts": "วัสดุสำนักงานใกล้หมด",
        "proposal": "เห็นควรอนุมัติ",
    }

    def submitted() -> int:
        memo_id = int(call("officer", "/memos", fields)["id"])
        call("officer", f"/memos/{memo_id}/actions", {"action": "submit"})
        return memo_id

    call("officer", "/memos", fields)
    for _ in range(2):
        memo_id = submitted()
        for user in ("head", "palad"):
            call(user, f"/memos/{memo_id}/actions", {"action": "endorse", "opinion": "เห็นควร"})
    call("mayor", f"/memos/{memo_id}/actions", {"action": "sign", "decision": "approved"})
    call("officer", f"/memos/{submitted()}/actions", {"action": "withdraw"})
    return tokens


@pytest.fixture(scope="module")
def schema(stack: ServedStack) -> Any:
    # Schemathesis's refusals of invalid data, and 414: a request line longer than gunicorn
    # reads is refused by gunicorn, as the document says. (Its default list has 5xx too;
    # here a 5xx is a failure, whatever the data.)
    refusals = ["400", "401", "403", "404", "405", "406", "409", "414", "415", "422", "428"]
    config = SchemathesisConfig.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": refusals}}}
    )
    return schemathesis.openapi.from_url(f"{stack.url}/api/v1/openapi.json", config=config)


def operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("user", USERS)
def test_every_operation_conforms_to_the_document(
    schema: Any, tokens: dict[str, str], stack: ServedStack, user: str, mode: GenerationMode
) -> None:
    in_case, in_call = auth_placement(tokens[user], mode)
    failures: list[str] = []
    answered: Counter[tuple[str, int]] = Counter()
    for operation in operations(schema):
        method, path = operation.method.upper(), operation.path

        @given(case=operation.as_strategy(generation_mode=mode, headers=in_case))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            fresh_key(case)
            response = case.call(base_url=stack.url, headers=in_call, timeout=TIMEOUT_S)
            answered[(case.operation.label, response.status_code)] += 1
            case.validate_response(
                response,
                headers=in_call,
                transport_kwargs={"base_url": stack.url, "timeout": TIMEOUT_S},
                excluded_checks=excluded_checks(case.operation.method, case.operation.path, mode),
            )

        try:
            check()
        except Unsatisfiable:
            continue  # nothing but the token to make invalid
        except Exception as failure:  # every operation is tried; all failures reported
            failures.append(f"{method} {path}:\n{failure}")
    assert not failures, "\n\n".join(failures)
    assert stack.alive()
    if mode == GenerationMode.POSITIVE:
        # Not a run of refusals: the token worked and the caller's memos were reached.
        succeeded = {label for (label, status), _ in answered.items() if 200 <= status < 300}
        lists_and_create = {"GET /api/v1/memos", "GET /api/v1/inbox", "POST /api/v1/memos"}
        assert lists_and_create <= succeeded, sorted(answered.items())


@pytest.mark.parametrize("user", USERS)
def test_scenarios_through_the_links_conform_to_the_document(
    schema: Any, tokens: dict[str, str], stack: ServedStack, user: str
) -> None:
    token = tokens[user]
    # Rendering a PDF starts Chromium (seconds each): the per-operation test fetches PDFs;
    # here the links lead elsewhere.
    machine = schema.exclude(path_regex=r"/pdf$").as_state_machine()

    answered: Counter[tuple[str, int]] = Counter()

    class Scenarios(machine):  # type: ignore[misc,valid-type]
        def before_call(self, case: Any) -> None:
            fresh_key(case)

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            answered[(case.operation.label, response.status_code)] += 1

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            kwargs: dict[str, Any] = {"base_url": stack.url, "timeout": TIMEOUT_S}
            # A case made invalid in its headers may be about the token (none sent): the
            # token given here would make it valid again.
            if case.meta is None or not case.meta.is_negative_at(ParameterLocation.HEADER):
                kwargs["headers"] = {"Authorization": f"Bearer {token}"}
            return kwargs

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=excluded_checks(
                    case.operation.method, case.operation.path, GenerationMode.POSITIVE
                ),
                headers=kwargs.get("headers"),
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )

    Scenarios.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=SCENARIO_STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert stack.alive()
    # Not a run of refusals: scenarios created memos and went on to act on memos.
    assert answered[("POST /api/v1/memos", 201)] > 0, sorted(answered.items())
    on_a_memo = [(label, status) for label, status in answered if "{memo_id}" in label]
    assert any(200 <= status < 300 for _, status in on_a_memo), sorted(answered.items())
