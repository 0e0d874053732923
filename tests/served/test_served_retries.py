"""Retries through ``memoflow serve`` (gunicorn, two workers): a client that lost an
answer and sends the same POST again with the same ``Idempotency-Key`` gets the first
answer — whichever worker takes the retry — and the action happens once."""

from __future__ import annotations

import uuid

import requests

from tests.conftest import seed_memo_fields
from tests.served.server import ServedStack
from tests.served.test_served import TIMEOUT, Api


def test_a_retried_create_and_a_retried_action_act_once(served: ServedStack) -> None:
    officer = Api(served, "officer")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    # A subject of its own: other tests of the session's served stack use the seed's.
    body = seed_memo_fields() | {"subject": f"ทดสอบส่งซ้ำ {uuid.uuid4().hex[:8]}"}
    first = officer("POST", "/memos", json=body, headers=key)
    # Each retry on a new connection, as a client that lost the first one would.
    retries = [
        requests.post(
            f"{served.url}/api/v1/memos",
            json=body,
            headers=key | {"Authorization": officer.http.headers["Authorization"]},
            timeout=TIMEOUT,
        )
        for _ in range(4)
    ]
    assert first.status_code == 201, first.text
    assert {r.status_code for r in retries} == {201}
    assert {r.json()["id"] for r in retries} == {first.json()["id"]}
    memo_id = first.json()["id"]
    found = officer("GET", "/memos", params={"q": body["subject"]}).json()
    assert [m["id"] for m in found["items"]] == [memo_id]

    submit = {"Idempotency-Key": str(uuid.uuid4())}
    answers = [
        officer("POST", f"/memos/{memo_id}/actions", json={"action": "submit"}, headers=submit)
        for _ in range(3)
    ]
    assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    events = officer("GET", f"/memos/{memo_id}/audit").json()
    assert [e["action"] for e in events["events"]].count("submit") == 1

    reused = officer("POST", "/memos", json=body | {"subject": "อีกเรื่อง"}, headers=key)
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
