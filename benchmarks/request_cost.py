"""The cost of one request: the inbox and the list of the head of office, through the
JSON API and as HTML pages, for one or more checkouts side by side.

    python benchmarks/request_cost.py [--size 100000] [--postgres URL] [--code CHECKOUT ...]
                                      [--callgrind | --http]

By default each request is timed in-process (CPU time), with no server, network or load
generator around it: what table b's throughput is made of. ``--callgrind`` counts
instructions instead (SQLite only); ``--http`` serves each checkout with ``memoflow serve
--workers 4`` and loads the inboxes at 32 connections with wrk, as table b does. Each way
measures a bare Flask hello beside them in the same run, the yardstick of issue 19's
targets (the inbox at most 3x the hello's instructions; served, at least 0.3x its rate
and at most 3x its p99).

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
import gc
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
HELLO = "GET / (bare Flask hello)"
# (name, path, who): the yardstick, then the head of office's inbox and list; "html" signs
# in with a cookie, "hello" is a bare Flask app (benchmarks.hello's) in the same process.
REQUESTS = [
    (HELLO, "/", "hello"),
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
    # The first page after signing in shows (and takes out of the session) the welcome
    # message: every measured request replays one cookie, which must not hold it.
    browser.get("/")
    session_cookie = browser.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert session_cookie is not None
    cookie = f"{session_cookie.key}={session_cookie.value}"
    headers = {
        "api": {"Authorization": f"Bearer {office['token']}"},
        "html": {"Cookie": cookie},
        "hello": {},
    }
    from benchmarks.hello import app as hello_app

    results: dict[str, float] = {}
    wanted = REQUESTS if only is None else [REQUESTS[only]]
    for name, path, who in wanted:
        environ = EnvironBuilder(
            path=path, headers=headers[who], environ_base=browser.environ_base
        ).get_environ()
        served = hello_app if who == "hello" else app

        def call(environ: dict[str, Any] = environ, path: str = path, served: Any = served) -> None:
            statuses: list[str] = []
            request = dict(environ, **{"wsgi.input": BytesIO(b"")})
            b"".join(served(request, lambda status, _headers, _exc=None: statuses.append(status)))
            if not statuses[0].startswith("200"):
                raise RuntimeError(f"{path}: {statuses[0]}")

        for _ in range(30):
            call()
        # What start-up and the warm-up left on the heap stays alive: frozen, it is not
        # walked by the collector's full passes, whose falling among the measured
        # requests or not swung a count by a tenth of a hello's instructions per request.
        gc.collect()
        gc.freeze()
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


def load_hello(seconds: float) -> Any:
    """The bare Flask hello (benchmarks.hello) behind the same gunicorn settings, at 32
    connections: the yardstick of ``load_served``."""
    from benchmarks import http

    home = Path(tempfile.mkdtemp(prefix="memoflow_cost_"))
    with http.hello_server(home / "hello.log") as server:
        wanted = [http.Request("GET", "/", {})]
        http.load(server.base, wanted, seconds=1)  # warm-up
        return http.load(server.base, wanted, seconds=seconds)


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
    # One hash seed for every child: with a random one, the hello's count swung between
    # 0.28 and 0.40 M a request from run to run (0.32-0.33 M with this one).
    env = os.environ | {"PYTHONPATH": str(code), "PYTHONHASHSEED": "0"}
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
    parser.add_argument(
        "--which",
        help="with --callgrind: only the requests whose name holds one of these"
        " comma-separated texts (e.g. 'api/v1/inbox,inbox page'); the hello always",
    )
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
    texts = options.which.split(",") if options.which else [""]
    chosen = [
        index
        for index, (name, _path, _who) in enumerate(REQUESTS)
        if name == HELLO or any(text in name for text in texts)
    ]
    office = build_office(options.workdir, options.size, options.postgres)
    if options.http:
        print(f"{office['label']}, {options.size:,} memos; memoflow serve --workers 4, ", end="")
        print("32 connections, head of office; the bare Flask hello behind the same gunicorn")
        print("settings (benchmarks.hello) in each run\n")
        print("| run | checkout | request | req/s | p50 ms | p99 ms | failed ", end="")
        print("| ÷ hello | p99 ÷ hello |")
        print("|---|---|---|---|---|---|---|---|---|")
        for run in range(1, 4):
            hello = load_hello(options.seconds)
            print(
                f"| {run} | | {HELLO} | {hello.rate:,.0f} | {hello.p50_ms:.1f} "
                f"| {hello.p99_ms:.1f} | {hello.failed} | | |",
                flush=True,
            )
            for code in codes:
                for name, load in load_served(code, office, options.seconds).items():
                    print(
                        f"| {run} | {code} | {name} | {load.rate:,.0f} | {load.p50_ms:.1f} "
                        f"| {load.p99_ms:.1f} | {load.failed} | {load.rate / hello.rate:.2f} "
                        f"| {load.p99_ms / hello.p99_ms:.1f} |",
                        flush=True,
                    )
        return
    print(f"{office['label']}, {options.size:,} memos; one request in-process, head of office\n")
    if options.callgrind:
        print("| checkout | request | instructions per request | ÷ hello |")
        print("|---|---|---|---|")
        for code in codes:
            hello = 0.0
            for index in chosen:
                # One request kind per child: REQUESTS[index] only.
                counts = [
                    _child(code, office, requests, 1, valgrind=True, only=index)
                    for requests in (options.requests, 4 * options.requests)
                ]
                per_request = (counts[1] - counts[0]) / (3 * options.requests)
                name = REQUESTS[index][0]
                hello = per_request if name == HELLO else hello
                ratio = f"{per_request / hello:.1f}" if hello and name != HELLO else ""
                print(f"| {code} | {name} | {per_request / 1e6:.3f} M | {ratio} |", flush=True)
        return
    rounds: dict[Path, list[dict[str, float]]] = {code: [] for code in codes}
    for _ in range(3):
        for code in codes:
            rounds[code].append(_child(code, office, options.requests, options.rounds, False))
    print("| checkout | request | CPU ms per request (median of 3 runs) | ÷ hello |")
    print("|---|---|---|---|")
    for code in codes:
        hello = statistics.median(run[HELLO] for run in rounds[code])
        for name, _path, _who in REQUESTS:
            value = statistics.median(run[name] for run in rounds[code])
            ratio = f"{value / hello:.1f}" if name != HELLO else ""
            print(f"| {code} | {name} | {value:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
