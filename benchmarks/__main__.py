"""``python -m benchmarks run [--quick | --tiny] [options]``: run the benchmarks and print
their tables (Markdown). See benchmarks/__init__.py for what each section measures and
benchmarks/RESULTS.md for the figures.

Sections: ``engine`` and ``serving`` by default; ``--sections engine,peers`` puts memoflow's
engine beside the same route in django-fsm-2 and SpiffWorkflow (the optional extra
``bench``: ``pip install -e '.[bench]'``)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import engine, peers, scaling
from benchmarks.common import Target, drop_schema, machine, postgres_target, sqlite_target
from benchmarks.http import CONNECTIONS, Load, Request, hello_server, load, memory_mb


@dataclass(frozen=True)
class Profile:
    """How long and how big: the full run, --quick, and --tiny (the smoke test)."""

    seconds: float
    latency_seconds: float
    sizes: tuple[int, ...]
    http_size: int
    endorse_pool: int
    engine_seconds: float
    engine_clients: int
    backlog: int = scaling.BACKLOG


PROFILES = {
    "full": Profile(10, 5, (1_000, 10_000, 100_000), 100_000, 6_000, 10, 16),
    "quick": Profile(3, 2, (1_000, 10_000), 10_000, 2_000, 3, 16),
    "tiny": Profile(1, 1, (200, 400), 400, 1_000, 1, 4, backlog=10),
}


def _postgres_default() -> str | None:
    for name in ("MEMOFLOW_BENCH_POSTGRES_URL", "MEMOFLOW_TEST_POSTGRES_URL"):
        if os.environ.get(name):
            return os.environ[name]
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the benchmarks and print the tables")
    size = run.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="short windows, up to 10k memos")
    size.add_argument("--tiny", action="store_true", help="seconds in all (the smoke test)")
    run.add_argument(
        "--sections",
        default="engine,serving",
        help="engine (a), serving (b, c, d), peers (e: django-fsm-2 and SpiffWorkflow on"
        " SQLite, needs the extra 'bench'); comma-separated (default: engine,serving)",
    )
    run.add_argument(
        "--postgres",
        default=_postgres_default(),
        help="PostgreSQL server URL (default: MEMOFLOW_BENCH_POSTGRES_URL or"
        " MEMOFLOW_TEST_POSTGRES_URL); each benchmark works in a schema of its own",
    )
    run.add_argument("--no-postgres", action="store_true", help="SQLite only")
    run.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    run.add_argument("--sizes", help="memos stored, e.g. 1000,10000,100000,1000000")
    run.add_argument("--http-size", type=int, help="the size at which (b) runs (0: never)")
    run.add_argument("--workdir", type=Path, help="SQLite files and logs (default: a temp dir)")
    run.add_argument("--schema-prefix", default="memoflow_bench")
    run.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    run.add_argument(
        "--verify-up-to",
        type=int,
        help="time audit verification only at sizes up to this (it takes ~15 min at 1M)",
    )
    run.add_argument(
        "--cold-cache",
        action="store_true",
        help="measure (c) without first reading the SQLite file into the page cache",
    )
    run.add_argument("--output", type=Path, help="also write the tables to this file")
    return parser


def _hello(seconds: float, workdir: Path) -> tuple[Load, list[tuple[int, float, float]]]:
    with hello_server(workdir / "hello.log") as server:
        result = load(server.base, [Request("GET", "/", {})], CONNECTIONS, seconds)
        memory = [(pid, *memory_mb(pid)) for pid in server.worker_pids()]
    return result, memory


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    profile = PROFILES["tiny" if options.tiny else "quick" if options.quick else "full"]
    sizes = tuple(int(s) for s in options.sizes.split(",")) if options.sizes else profile.sizes
    http_size = (
        options.http_size
        if options.http_size is not None
        else (profile.http_size if profile.http_size in sizes else max(sizes))
    )
    sections = set(options.sections.split(","))
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="memoflow-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)

    def targets(name: str) -> list[Target]:
        chosen = []
        if not options.no_sqlite:
            chosen.append(sqlite_target(workdir, name))
        if options.postgres and not options.no_postgres:
            chosen.append(postgres_target(options.postgres, f"{options.schema_prefix}_{name}"))
        return chosen

    started = time.perf_counter()
    command = "python -m benchmarks " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    out = [
        "# memoflow benchmarks",
        "",
        f"- command: `{command}`",
        f"- machine: {machine()}",
        f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}; load average at the start"
        f" {os.getloadavg()[0]:.1f} (other work on the machine shows here)",
        "",
    ]
    print("\n".join(out), flush=True)
    used: list[Target] = []
    try:
        if "engine" in sections:
            engine_targets = targets("engine")
            used += engine_targets
            table = engine.run(engine_targets, profile.engine_seconds, profile.engine_clients)
            out += [table.render(), ""]
            print(table.render() + "\n", flush=True)
        if "serving" in sections:
            hello, hello_memory = _hello(profile.seconds, workdir)
            serving_targets = targets("serving")
            used += serving_targets
            results = scaling.run(
                serving_targets,
                list(sizes),
                http_size,
                profile.seconds,
                profile.latency_seconds,
                profile.endorse_pool,
                workdir,
                hello,
                hello_memory,
                profile.backlog,
                options.verify_up_to,
                warm_cache=not options.cold_cache,
            )
            for table in (results.http, results.scaling, results.verification, results.memory):
                out += [table.render(), ""]
                print(table.render() + "\n", flush=True)
            plans = ["### EXPLAIN of the read queries", "", "```", *results.explain, "```", ""]
            out += plans
            print("\n".join(plans), flush=True)
        if "peers" in sections:
            if options.no_sqlite:
                print("peers: skipped (the peers run on SQLite only; --no-sqlite)", flush=True)
            else:
                table = peers.run(workdir, profile.engine_seconds, keep=options.keep)
                out += [table.render(), ""]
                print(table.render() + "\n", flush=True)
    finally:
        if not options.keep:
            for target in used:
                drop_schema(target)
    out.append(
        f"(ran {time.perf_counter() - started:.0f} s; load average at the end"
        f" {os.getloadavg()[0]:.1f}; work directory {workdir})"
    )
    print(out[-1])
    if options.output:
        options.output.write_text("\n".join(out) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
