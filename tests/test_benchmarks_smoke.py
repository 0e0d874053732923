"""The benchmark command runs, end to end, at a tiny size (seconds, a few hundred memos).

It is the documented command (``python -m benchmarks run``) in a fresh process, on SQLite,
and on PostgreSQL as well when this run's database is PostgreSQL
(``MEMOFLOW_TEST_DATABASE_URL``), each benchmark in a schema of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_the_benchmarks_run_at_a_tiny_size(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "benchmarks", "run", "--tiny", "--workdir", str(tmp_path)]
    command += ["--output", str(tmp_path / "results.md")]
    database = os.environ.get("MEMOFLOW_TEST_DATABASE_URL", "")
    if database.startswith(("postgresql", "postgres:")):
        command += ["--postgres", database, "--schema-prefix", f"smoke_{os.getpid()}"]
    else:
        command.append("--no-postgres")
    completed = subprocess.run(
        command,
        cwd=REPO,
        env=os.environ | {"PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    written = (tmp_path / "results.md").read_text(encoding="utf-8")
    for heading in (
        "a) Engine",
        "b) HTTP",
        "c) Scaling",
        "audit verification",
        "d) Resident",
        "EXPLAIN",
    ):
        assert heading in written, heading
    assert "| bare Flask" in written
    assert "ix_memo_inbox" in written  # the inbox query uses its index


def test_the_request_cost_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    """benchmarks/request_cost.py builds its office and times every request it names,
    beside a bare Flask hello measured in the same run (the yardstick of issue 19)."""
    command = [sys.executable, "benchmarks/request_cost.py", "--size", "200"]
    command += ["--requests", "3", "--rounds", "1", "--workdir", str(tmp_path)]
    completed = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    rows = [line for line in completed.stdout.splitlines() if line.startswith(f"| {REPO}")]
    assert [row.split(" | ")[1] for row in rows] == [
        "GET / (bare Flask hello)",
        "GET /api/v1/inbox",
        "GET / (inbox page, HTML)",
        "GET /api/v1/memos (list)",
        "GET /memos (list page, HTML)",
    ]
    assert all(float(row.split(" | ")[2].rstrip(" |")) > 0 for row in rows)


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.skipif(
    os.environ.get("MEMOFLOW_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="engine_cost counts SQLite only; it ran in the SQLite pass of this suite",
)
def test_the_engine_cost_benchmark_counts_instructions_per_commit(tmp_path: Path) -> None:
    """benchmarks/engine_cost.py runs memoflow's lifecycles under callgrind twice and
    prints the instructions per commit (about two minutes: valgrind is slow to start)."""
    command = [sys.executable, "benchmarks/engine_cost.py", "--no-peers"]
    command += ["--seconds", "0.5", "2", "--workdir", str(tmp_path)]
    completed = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=900, check=False
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    rows = [line for line in completed.stdout.splitlines() if line.startswith("| memoflow")]
    assert len(rows) == 1
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    millions = float(cells[1].removesuffix(" M"))
    assert 0.5 < millions < 100, rows  # a commit is millions of instructions, not zero
    assert int(cells[3]) > 0


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.skipif(
    os.environ.get("MEMOFLOW_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="statement_cost counts SQLite only; it ran in the SQLite pass of this suite",
)
def test_the_statement_cost_benchmark_prices_a_statement(tmp_path: Path) -> None:
    """benchmarks/statement_cost.py counts what a transaction and one statement cost
    through a layer: here the ORM's, a few transactions under valgrind (about a minute),
    and the driver's and Core's transactions run once without it."""
    command = [sys.executable, "benchmarks/statement_cost.py", "--transactions", "3", "9"]
    command += ["--statements", "2", "--layers", "ORM", "--workdir", str(tmp_path)]
    completed = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=900, check=False
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    rows = [line for line in completed.stdout.splitlines() if line.startswith("| ORM")]
    assert len(rows) == 1, completed.stdout
    transaction, statement = (
        float(cell.strip().removesuffix(" k").replace(",", ""))
        for cell in rows[0].strip("|").split("|")[1:]
    )
    # Hundreds of thousands of instructions each, not zero or noise.
    assert transaction > 10 and statement > 10, rows
    for layer in ("driver", "Core"):
        child = [sys.executable, "benchmarks/statement_cost.py", "--child", layer]
        child += [str(tmp_path / f"{layer}.sqlite3"), "2", "2"]
        ran = subprocess.run(child, cwd=REPO, capture_output=True, text=True, check=False)
        assert ran.returncode == 0 and '"transactions": 2' in ran.stdout, ran.stderr[-3000:]
