"""Real parallel connections: concurrent submissions get distinct consecutive numbers, and
of two concurrent decisions on one step exactly one wins — on SQLite and on PostgreSQL.

The PostgreSQL cases need ``MEMOFLOW_TEST_POSTGRES_URL`` (``.ci/run`` sets it)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from models.db import make_engine, make_session_factory
from tests.conftest import PASSWORD, Office, reset_schema
from workflow import accounts, actions, audit
from workflow.errors import AlreadyDecided, StaleVersion, WorkflowError

POSTGRES_URL = os.environ.get("MEMOFLOW_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def racing_office(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Office]:
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("MEMOFLOW_TEST_POSTGRES_URL is not set (no PostgreSQL to race on)")
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path / 'race.db'}"
    engine = make_engine(url, pool_size=30, max_overflow=10)
    reset_schema(engine)
    office = Office(make_session_factory(engine))

    def second_head(session: Any) -> None:
        accounts.add_user(
            session,
            accounts.only_organisation(session),
            "head2",
            "นางสาวจันทร์ เพ็ญ",
            "หัวหน้าสำนักปลัด",
            "head_of_office",
            PASSWORD,
        )

    office.run(second_head)
    yield office
    engine.dispose()


def race(workers: list[Callable[[], Any]]) -> list[Any]:
    """Start every worker at the same moment; return each one's result or exception."""
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(index: int, work: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = work()
        except Exception as error:  # collected and asserted on by the caller
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_concurrent_submissions_get_distinct_consecutive_numbers(racing_office: Office) -> None:
    office = racing_office
    drafts = [office.create() for _ in range(20)]
    results = race([lambda m=m: office.act("officer", "submit", m) for m in drafts])
    assert results == ["pending_head_of_office"] * 20
    numbers = sorted(office.memo(m).number_sequence or 0 for m in drafts)
    assert numbers == list(range(1, 21))
    assert office.run(lambda s: audit.verify(s).ok)


@pytest.mark.parametrize("carry_version", [True, False])
def test_two_concurrent_endorsements_one_wins(racing_office: Office, carry_version: bool) -> None:
    office = racing_office
    for _ in range(5):
        memo_id = office.submitted()
        version = office.memo(memo_id).version if carry_version else None
        results = race(
            [
                lambda u=u, m=memo_id, v=version: office.act(
                    u, "endorse", m, opinion=f"เห็นควร ({u})", version=v
                )
                for u in ("head", "head2")
            ]
        )
        wins = [r for r in results if r == "pending_permanent_secretary"]
        losses = [r for r in results if isinstance(r, WorkflowError)]
        assert len(wins) == 1 and len(losses) == 1, results
        assert isinstance(losses[0], StaleVersion | AlreadyDecided)
        assert losses[0].status == 409
        assert len(office.memo(memo_id).opinions) == 1
    assert office.run(lambda s: audit.verify(s).ok)


CONTENTS = "มาตรการ,ผล\n1,ดำเนินการแล้ว\n".encode()


def attach(session: Any, memo_id: int, name: str) -> int:
    officer = Office.user(session, "officer")
    return int(actions.add_attachment(session, memo_id, officer, name, CONTENTS).id)


def downloadable(office: Office, memo_id: int, attachment_id: int) -> bytes:
    def read(session: Any) -> bytes:
        officer = Office.user(session, "officer")
        return actions.attachment_data(session, memo_id, attachment_id, officer)[1]

    return bytes(office.run(read))


def in_a_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as error:  # asserted on by the caller
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("first", ["removal", "upload"])
def test_removing_and_attaching_the_same_contents_at_once(
    racing_office: Office, first: str
) -> None:
    """Memo A's author removes the last attachment with some contents while the same
    contents are attached to memo B, with both transactions open at once: whichever
    commits first, the second waits for it, B's file stays downloadable and A's is gone
    (PostgreSQL: the contents' row lock; SQLite: one writer at a time)."""
    office = racing_office
    memo_a, memo_b = office.create(), office.create()
    removed = office.run(lambda s: attach(s, memo_a, "เดิม.csv"))

    def remove(session: Any) -> None:
        officer = Office.user(session, "officer")
        actions.remove_attachment(session, memo_a, removed, officer)

    def upload() -> int:
        return int(office.run(lambda s: attach(s, memo_b, "ใหม่.csv")))

    opened = office.sessions()
    try:
        if first == "removal":
            remove(opened)
            thread, outcome = in_a_thread(upload)
        else:
            added = attach(opened, memo_b, "ใหม่.csv")
            thread, outcome = in_a_thread(lambda: office.run(remove))
        thread.join(timeout=1.0)
        assert thread.is_alive(), "the second transaction did not wait for the first"
        opened.commit()
    finally:
        opened.close()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert not isinstance(outcome[0], Exception), outcome
    kept = outcome[0] if first == "removal" else added
    assert downloadable(office, memo_b, kept) == CONTENTS
    assert office.memo(memo_a).attachments == []
    assert office.run(lambda s: audit.verify(s).ok)


def test_the_same_new_contents_attached_to_two_memos_at_once(racing_office: Office) -> None:
    """Two authors attach the same file, never stored before, at the same moment: both
    succeed (the contents are stored once) and both download it."""
    office = racing_office
    for round_ in range(3):
        memos = [office.create(), office.create()]
        contents = CONTENTS + f"{round_},ใหม่\n".encode()

        def upload(memo_id: int, contents: bytes = contents) -> int:
            def work(session: Any) -> int:
                officer = Office.user(session, "officer")
                return int(
                    actions.add_attachment(session, memo_id, officer, "ข้อมูล.csv", contents).id
                )

            return int(office.run(work))

        results = race([lambda m=m: upload(m) for m in memos])
        assert all(isinstance(result, int) for result in results), results
        for memo_id, attachment_id in zip(memos, results, strict=True):
            assert downloadable(office, memo_id, attachment_id) == contents
