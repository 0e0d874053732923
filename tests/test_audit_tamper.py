"""Each kind of tampering with the database is caught by ``memoflow audit verify``, which
names the first bad event or memo; and an export verifies with the standard library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import Office
from workflow import audit

VERIFIER = Path(__file__).parents[1] / "docs" / "verify_audit_export.py"


@pytest.fixture
def history(office: Office) -> dict[str, Any]:
    """Two signed memos (5 events each) and one under way (2 events): 12 events."""
    signed = office.signed()
    second = office.signed()
    pending = office.submitted()
    return {"signed": signed, "second": second, "pending": pending}


def sql(office: Office, *statements: str) -> None:
    def run(session: Any) -> None:
        for statement in statements:
            session.execute(text(statement))

    office.run(run)


def verify(office: Office, head: str | None = None) -> audit.VerifyReport:
    return office.run(lambda s: audit.verify(s, expected_head=head))  # type: ignore[no-any-return]


def test_untouched_history_verifies(office: Office, history: dict[str, Any]) -> None:
    report = verify(office)
    assert report.ok, report.problems
    assert report.event_count == 12


@pytest.mark.parametrize(
    ("statements", "named"),
    [
        (["UPDATE audit_event SET opinion = 'เห็นควรไม่อนุมัติ' WHERE seq = 3"], "event seq 3"),
        (["UPDATE audit_event SET actor_name = 'นายปลอม' WHERE seq = 5"], "event seq 5"),
        (["UPDATE audit_event SET at = '2020-01-01 00:00:00' WHERE seq = 2"], "event seq 2"),
        (["DELETE FROM audit_event WHERE seq = 4"], "event seq 5"),
        (
            # Swap two events' places in the sequence.
            [
                "UPDATE audit_event SET seq = 1000 WHERE seq = 3",
                "UPDATE audit_event SET seq = 3 WHERE seq = 4",
                "UPDATE audit_event SET seq = 4 WHERE seq = 1000",
            ],
            "event seq 3",
        ),
        (
            # A forged event slipped in between with a copied hash.
            [
                "UPDATE audit_event SET seq = seq + 100 WHERE seq >= 10",
                "INSERT INTO audit_event (organisation_id, seq, memo_id, actor_id, actor_name,"
                " actor_position, action, from_state, to_state, opinion, content_hash, details,"
                " at, prev_hash, hash) SELECT organisation_id, 10, memo_id, actor_id, actor_name,"
                " actor_position, 'endorse', from_state, to_state, 'ปลอม', content_hash, details,"
                " at, prev_hash, hash FROM audit_event WHERE seq = 111",
            ],
            "event seq 10",
        ),
    ],
    ids=["opinion", "actor", "time", "deleted", "reordered", "inserted"],
)
def test_tampered_events_are_named(
    office: Office, history: dict[str, Any], statements: list[str], named: str
) -> None:
    sql(office, *statements)
    report = verify(office)
    assert not report.ok
    assert named in report.problems[0], report.problems


def test_an_edited_body_of_a_signed_memo_is_caught(office: Office, history: dict[str, Any]) -> None:
    sql(office, f"UPDATE memo SET proposal = 'ข้อเสนอใหม่' WHERE id = {history['signed']}")
    report = verify(office)
    assert any(f"memo {history['signed']}: its content differs" in p for p in report.problems)
    assert any("other content than the memo has now" in p for p in report.problems)


@pytest.mark.parametrize(
    ("statement", "what"),
    [
        (
            "UPDATE memo SET state = 'signed', decided_by_id = 4, pending_role = NULL"
            " WHERE id = {pending}",
            "state is signed",
        ),
        ("UPDATE memo SET number = 'พท 72001/99' WHERE id = {signed}", "number is"),
        (
            "UPDATE opinion SET text = 'ไม่เห็นด้วย'"
            " WHERE memo_id = {signed} AND step = 'head_of_office'",
            "opinions differ",
        ),
        ("DELETE FROM opinion WHERE memo_id = {second} AND step = 'mayor'", "opinions differ"),
    ],
    ids=["state", "number", "opinion-text", "opinion-deleted"],
)
def test_a_memo_that_disagrees_with_its_events_is_named(
    office: Office, history: dict[str, Any], statement: str, what: str
) -> None:
    sql(office, statement.format(**history))
    report = verify(office)
    assert not report.ok
    assert what in " ".join(report.problems), report.problems


def test_a_truncated_tail_is_caught_with_a_recorded_head(
    office: Office, history: dict[str, Any]
) -> None:
    head = verify(office).head_hashes[office.organisation_id]
    # Remove the last two events and rewrite the chain-head row to match: a careful forger.
    sql(
        office,
        "DELETE FROM audit_event WHERE seq > 10",
        "UPDATE audit_chain_head SET last_seq = 10,"
        " last_hash = (SELECT hash FROM audit_event WHERE seq = 10)",
    )
    assert "chain head" not in " ".join(verify(office).problems)
    report = verify(office, head=head)
    assert any("no longer in the chain" in p for p in report.problems)


def test_export_verifies_with_the_standard_library_alone(
    office: Office, history: dict[str, Any], tmp_path: Path
) -> None:
    exported = tmp_path / "audit.jsonl"
    count = office.run(lambda s: audit.export_to_path(s, exported))
    assert count == 12
    head = verify(office).head_hashes[office.organisation_id]
    ok = subprocess.run(
        [sys.executable, "-I", str(VERIFIER), str(exported), "--head", head],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "ok: 12 events" in ok.stdout

    lines = exported.read_text(encoding="utf-8").splitlines()
    lines[7] = lines[7].replace("เห็นควร", "ไม่เห็นควร", 1)  # seq 8: an endorsement
    exported.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad = subprocess.run(
        [sys.executable, "-I", str(VERIFIER), str(exported)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert "line 8" in bad.stderr
