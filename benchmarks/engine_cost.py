"""(a) in instructions: what one durable commit of a memo lifecycle costs memoflow, for one
or more checkouts, and the peers, side by side, counted by valgrind.

    python benchmarks/engine_cost.py [--code CHECKOUT ...] [--no-peers] [--seconds 4 16]

Table a's rates and CPU times move with the machine: on a virtual machine whose speed
drifts from minute to minute the same code gave 175 and 242 transitions/s an hour apart
(benchmarks/RESULTS.md at 47590cd). An instruction count does not move. Each workload runs twice
under ``valgrind --tool=callgrind`` for SHORT and LONG seconds (wall time under valgrind)
on a new SQLite file (WAL, synchronous=FULL): the instructions of the longer run minus
those of the shorter, over the commits it made more, are the instructions per commit —
start-up, imports, the schema, seeding and warm-up cancel out.

- memoflow: ``benchmarks.engine.lifecycle_client`` of each ``--code`` checkout (this one
  by default; an older commit in a ``git worktree`` for a before/after), in its own
  process: create, submit, endorse, endorse, sign through the verbs, each a committed
  transaction with its audit event, the actor loaded as the web layer loads it.
- the peers (``benchmarks.peers``, this checkout's): the same route with one audit row
  per step in django-fsm-2 and SpiffWorkflow, where installed (the extra ``bench``).

The database's own work (SQLite runs in the process) is counted too; the wait for the
disk is not an instruction. Several minutes in all.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on the path, and its http.py would
# shadow the standard library's http.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != REPO / "benchmarks"]


class _Go:
    """lifecycle_client waits on a start signal shared by many clients; here there is one."""

    def wait(self) -> None:
        return None


def memoflow_child(path: Path, seconds: float) -> dict[str, float]:
    """In this process, with the checkout on PYTHONPATH: a new SQLite file, the seed
    office, then lifecycles for ``seconds``."""
    from benchmarks.common import fresh_schema, sqlite_target
    from benchmarks.dataset import seed_people
    from benchmarks.engine import lifecycle_client
    from models.db import make_engine

    target = sqlite_target(path.parent, path.stem)
    fresh_schema(target)
    engine = make_engine(target.url)
    (people,) = seed_people(engine, organisations=1)
    engine.dispose()
    return lifecycle_client(target, people, start=_Go(), seconds=seconds)


def callgrind(command: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """(instructions, standard output) of ``command`` run under callgrind."""
    completed = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        capture_output=True,
        text=True,
        # The same hash seed in every run: dictionaries and sets laid out alike, so that
        # runs of the same code differ less (about 1 % apart without it).
        env=env | {"PYTHONHASHSEED": "0"},
        cwd=cwd,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stdout[-2000:] + completed.stderr[-2000:])
    return int(re.findall(r"Collected : (\d+)", completed.stderr)[-1]), completed.stdout


def _counted(command: list[str], env: dict[str, str], cwd: Path) -> tuple[int, int]:
    """(instructions, commits) of ``command`` under callgrind; it prints its counters as
    the last line of JSON."""
    instructions, output = callgrind(command, env, cwd)
    return instructions, int(json.loads(output.strip().splitlines()[-1])["commits"])


def fresh(path: Path) -> Path:
    """``path`` with no SQLite file (nor its WAL and shared memory) left there."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def per_commit(
    make_command: Any, env: dict[str, str], cwd: Path, seconds: tuple[float, float]
) -> tuple[float, int]:
    """Instructions per commit from a short and a long run, and the commits between."""
    short = _counted(make_command(seconds[0]), env, cwd)
    long = _counted(make_command(seconds[1]), env, cwd)
    more = long[1] - short[1]
    if more <= 0:
        raise RuntimeError(f"the longer run made no more commits ({short[1]} → {long[1]})")
    return (long[0] - short[0]) / more, more


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, action="append", help="a checkout to measure")
    parser.add_argument("--no-peers", action="store_true", help="memoflow only")
    parser.add_argument(
        "--seconds", type=float, nargs=2, default=(4.0, 16.0), metavar=("SHORT", "LONG")
    )
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-seconds", type=float, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:  # one memoflow run, in the checkout on PYTHONPATH
        print(json.dumps(memoflow_child(options.child, options.child_seconds)))
        return

    sys.path.insert(0, str(REPO))  # the parent: this checkout's harness and peers
    from benchmarks.peers import PEERS, _described, missing_distributions

    seconds = tuple(options.seconds)
    rows: list[tuple[str, float, int]] = []
    for code in [path.resolve() for path in (options.code or [REPO])]:
        path = options.workdir / "engine_cost_memoflow.sqlite3"
        env = os.environ | {"PYTHONPATH": str(code)}

        def memoflow(window: float, path: Path = path) -> list[str]:
            script = str(Path(__file__).resolve())
            child = ["--child", str(fresh(path)), "--child-seconds", str(window)]
            return [sys.executable, script, *child]

        commit_cost, commits = per_commit(memoflow, env, code, seconds)
        revision = subprocess.run(
            ["git", "-C", str(code), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        rows.append((f"memoflow ({revision or code})", commit_cost, commits))
        print(f"engine_cost: {rows[-1][0]}: {commit_cost / 1e6:.2f} M", file=sys.stderr)
    for peer in () if options.no_peers else PEERS:
        if missing_distributions(peer):
            print(f"engine_cost: {peer} not installed, skipped", file=sys.stderr)
            continue
        path = options.workdir / f"engine_cost_{peer.lower().replace('-', '_')}.sqlite3"

        def client(window: float, peer: str = peer, path: Path = path) -> list[str]:
            return [sys.executable, "-m", "benchmarks.peers", peer, str(fresh(path)), str(window)]

        commit_cost, commits = per_commit(client, dict(os.environ), REPO, seconds)
        rows.append((_described(peer), commit_cost, commits))
        print(f"engine_cost: {rows[-1][0]}: {commit_cost / 1e6:.2f} M", file=sys.stderr)

    first = rows[0][1]
    print("| workload | instructions per commit | ÷ the first row | commits counted |")
    print("|---|---|---|---|")
    for name, commit_cost, commits in rows:
        print(f"| {name} | {commit_cost / 1e6:.2f} M | {commit_cost / first:.2f} | {commits} |")
    print(
        f"\nvalgrind --tool=callgrind; instructions of a {seconds[1]:g} s run minus a"
        f" {seconds[0]:g} s run (wall time under valgrind), over the commits between; SQLite"
        " file in WAL mode, synchronous=FULL; one client."
    )


if __name__ == "__main__":
    main()
