"""The cost of one request: the inbox and the list of the head of office, through the
JSON API and as HTML pages, for one or more checkouts side by side.

    python benchmarks/request_cost.py [--size 100000] [--postgres URL] [--code CHECKOUT ...]
                                      [--callgrind | --http]

By default each request is timed in-process (CPU time), with no server, network or load
generator around it: what table b's throughput is made of. ``--callgrind`` counts
instructions instead (SQLite only); ``--http`` serves each checkout with ``memoflow serve
--workers 4`` and loads the inboxes at 32 connections with wrk, as table b does.

The office (SIZE memos of history, 100 waiting for the head of office, 20 officers) is a
SQLite file under ``--workdir`` (the temporary directory), or a schema of the PostgreSQL
database with ``--postgres``, built by this checkout once and reused while its schema
revision and size match. Each ``--code`` checkout (this one by default; an older commit
in a ``git worktree`` for a before/after) serves the same requests from the same data in
processes of its own, and the runs alternate between the checkouts (three each) so that
drift of the machine's speed hits each alike.

CPU: the median over ROUNDS of the mean CPU time of REQUESTS requests, after 30
unmeasured ones. ``--callgrind`` (valgrind, several minutes): the instructions counted
for 4 x REQUESTS requests minus those for REQUESTS, divided by 3 x REQUESTS — start-up,
warm-up and the sign-in cancel out; the count is the same from run to run whatever else
the machine is doing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on the path, and its http.py would
# shadow the standard library's http, which werkzeug imports.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != REPO / "benchmarks"]
WAITING = 100  # memos waiting for the head of office
# (name, path, who): the head of office's inbox and list; "html" signs in with a cookie.
REQUESTS = [
    ("GET /api/v1/inbox", "/api/v1/inbox", "api"),
    ("GET / (inbox page, HTML)", "/", "html"),
    ("GET /api/v1/memos (list)", "/api/v1/memos", "api"),
    ("GET /memos (list page, HTML)", "/memos", "html"),
]


def build_office(workdir: Path, size: int, postgres: str | None) -> dict[str, str]:
    """The office of ``size`` memos (built once) and a bearer token of its head of office;
    returns what the measuring process needs."""
    sys.path.insert(0, str(REPO))
    from sqlalchemy import select

    from benchmarks import dataset
    from benchmarks.common import fresh_schema, postgres_target, settle, sqlite_target
    from models import User, migrate
    from models.db import make_engine, make_session_factory
    from workflow import accounts

    name = f"bench_request_cost_{migrate.head()}"
    if postgres:
        target = postgres_target(postgres, name)
    else:
        target = sqlite_target(workdir, f"memoflow_{name}_{size}")
    engine = make_engine(target.url)
    try:
        built = dataset.memo_count(engine)
    except Exception:  # no schema yet
        built = -1
    if built != size + WAITING:
        engine.dispose()
        fresh_schema(target)
        engine = make_engine(target.url)
        (people,) = dataset.seed_people(engine, organisations=1, officers=20)
        dataset.add_memos(engine, people.organisation_id, size, {"pending_head_of_office": WAITING})
        settle(engine, target)
    with make_session_factory(engine).begin() as session:
        head = session.execute(select(User).where(User.username == "head")).scalar_one()
        token = accounts.create_token(session, head, "request_cost")
    engine.dispose()
    return {"url": target.url, "token": token, "password": dataset.PASSWORD, "label": target.label}


def measure(
    code: Path, office: dict[str, str], requests: int, rounds: int, only: int | None = None
) -> dict[str, float]:
    """In this process, with ``code``'s application: CPU ms per request of each REQUESTS
    (or of REQUESTS[only] alone)."""
    sys.path.insert(0, str(code))
    os.environ.setdefault("MEMOFLOW_HOME", tempfile.mkdtemp(prefix="memoflow_cost_"))
    from io import BytesIO

    from werkzeug.test import EnvironBuilder

    from config import Config
    from webapp import create_app

    app = create_app(Config(DATABASE_URL=office["url"], SECRET_KEY="request-cost"))
    app.config["WTF_CSRF_ENABLED"] = False
    browser = app.test_client()
    signed_in = browser.post("/login", data={"username": "head", "password": office["password"]})
    if signed_in.status_code != 302:
        raise RuntimeError("could not sign in as the head of office")
    session_cookie = browser.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert session_cookie is not None
    cookie = f"{session_cookie.key}={session_cookie.value}"
    headers = {"api": {"Authorization": f"Bearer {office['token']}"}, "html": {"Cookie": cookie}}
    results: dict[str, float] = {}
    wanted = REQUESTS if only is None else [REQUESTS[only]]
    for name, path, who in wanted:
        environ = EnvironBuilder(
            path=path, headers=headers[who], environ_base=browser.environ_base
        ).get_environ()

        def call(environ: dict[str, Any] = environ, path: str = path) -> None:
            statuses: list[str] = []
            request = dict(environ, **{"wsgi.input": BytesIO(b"")})
            b"".join(app(request, lambda status, _headers, _exc=None: statuses.append(status)))
            if not statuses[0].startswith("200"):
                raise RuntimeError(f"{path}: {statuses[0]}")

        for _ in range(30):
            call()
        means = []
        for _ in range(rounds):
            started = time.process_time()
            for _ in range(requests):
                call()
            means.append((time.process_time() - started) / requests * 1000)
        results[name] = statistics.median(means)
    return results


def load_served(code: Path, office: dict[str, str], seconds: float) -> dict[str, Any]:
    """``memoflow serve --workers 4`` of ``code`` on the office; the API and HTML inboxes
    at 32 connections (benchmarks.http, as table b)."""
    from benchmarks import http

    http.REPO = code  # the server runs the checkout's code (PYTHONPATH, working directory)
    home = Path(tempfile.mkdtemp(prefix="memoflow_cost_"))
    results: dict[str, Any] = {}
    with http.memoflow_server(office["url"], home, home / "serve.log") as server:
        cookie = http.web_login(server.base, "head", office["password"])
        requests = {
            "GET /api/v1/inbox": {"Authorization": f"Bearer {office['token']}"},
            "GET / (inbox page, HTML)": {"Cookie": cookie},
        }
        for name, headers in requests.items():
            wanted = [http.Request("GET", "/api/v1/inbox" if "api" in name else "/", headers)]
            http.load(server.base, wanted, seconds=1)  # warm-up
            results[name] = http.load(server.base, wanted, seconds=seconds)
    return results


def _child(
    code: Path,
    office: dict[str, str],
    requests: int,
    rounds: int,
    valgrind: bool,
    only: int | None = None,
) -> Any:
    command = [sys.executable, __file__, "--measure", str(code), "--office", json.dumps(office)]
    command += ["--requests", str(requests), "--rounds", str(rounds)]
    if only is not None:
        command += ["--only", str(only)]
    if valgrind:
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command]
    env = os.environ | {"PYTHONPATH": str(code)}
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if completed.returncode != 0:
        raise RuntimeError(completed.stdout[-2000:] + completed.stderr[-2000:])
    if valgrind:
        return int(re.findall(r"Collected : (\d+)", completed.stderr)[-1])
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--code", type=Path, action="append", help="a checkout to measure")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--postgres", help="a PostgreSQL URL; SQLite when absent")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--callgrind", action="store_true", help="count instructions instead")
    mode.add_argument("--http", action="store_true", help="serve and load (table b's way)")
    parser.add_argument("--seconds", type=float, default=10, help="each load, with --http")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--office", help=argparse.SUPPRESS)
    parser.add_argument("--only", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:  # the child: one checkout, one process
        office = json.loads(options.office)
        found = measure(options.measure, office, options.requests, options.rounds, options.only)
        print(json.dumps(found))
        return

    if options.callgrind and options.postgres:
        parser.error("--callgrind counts SQLite only (a PostgreSQL server's work is elsewhere)")
    codes = [path.resolve() for path in (options.code or [REPO])]
    office = build_office(options.workdir, options.size, options.postgres)
    if options.http:
        print(f"{office['label']}, {options.size:,} memos; memoflow serve --workers 4, ", end="")
        print("32 connections, head of office\n")
        print("| run | checkout | request | req/s | p50 ms | p99 ms | failed |")
        print("|---|---|---|---|---|---|---|")
        for run in range(1, 4):
            for code in codes:
                for name, load in load_served(code, office, options.seconds).items():
                    print(
                        f"| {run} | {code} | {name} | {load.rate:,.0f} | {load.p50_ms:.1f} "
                        f"| {load.p99_ms:.1f} | {load.failed} |",
                        flush=True,
                    )
        return
    print(f"{office['label']}, {options.size:,} memos; one request in-process, head of office\n")
    if options.callgrind:
        print("| checkout | request | instructions per request |")
        print("|---|---|---|")
        for code in codes:
            for index, (name, _path, _who) in enumerate(REQUESTS):
                # One request kind per child: REQUESTS[index] only.
                counts = [
                    _child(code, office, requests, 1, valgrind=True, only=index)
                    for requests in (options.requests, 4 * options.requests)
                ]
                per_request = (counts[1] - counts[0]) / (3 * options.requests)
                print(f"| {code} | {name} | {per_request / 1e6:.2f} M |", flush=True)
        return
    rounds: dict[Path, list[dict[str, float]]] = {code: [] for code in codes}
    for _ in range(3):
        for code in codes:
            rounds[code].append(_child(code, office, options.requests, options.rounds, False))
    print("| checkout | request | CPU ms per request (median of 3 runs) |")
    print("|---|---|---|")
    for code in codes:
        for name, _path, _who in REQUESTS:
            value = statistics.median(run[name] for run in rounds[code])
            print(f"| {code} | {name} | {value:.2f} |")


if __name__ == "__main__":
    main()
