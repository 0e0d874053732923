"""(b) HTTP, (c) scaling and (d) memory, on one growing database per target.

The database grows to each size in turn (memos of history, mostly signed, plus a fixed
backlog of 100 memos waiting at each step: history grows, a backlog does not).
At each size: latency of GET inbox and GET memo at one connection (the cost of the
request itself, no queueing), and audit verification throughput. At the HTTP size
(100,000 by default): GET inbox, GET memo and POST endorse at 32 connections against
``memoflow serve --workers 4``, then the workers' memory. At the largest size: EXPLAIN of
the inbox and list queries.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from benchmarks import dataset
from benchmarks.common import Table, Target, fresh_schema, query_plan, settle, warm_file_cache
from benchmarks.http import CONNECTIONS, WORKERS, Load, Request, load, memory_mb, web_login
from benchmarks.http import memoflow_server as start_memoflow
from models import User
from models.db import make_engine, make_session_factory
from workflow import accounts, audit, queries

BACKLOG = 100  # memos waiting at each step, whatever the size (the full and quick runs)


@dataclass
class Prepared:
    engine: Engine
    people: list[dataset.People]
    head_token: str
    second_head_token: str
    officer_token: str
    backlog: int
    memos: int = 0


@dataclass
class Results:
    http: Table
    scaling: Table
    verification: Table
    memory: Table
    explain: list[str] = field(default_factory=list)


def _token(engine: Engine, user_id: int) -> str:
    with make_session_factory(engine).begin() as session:
        user = session.get(User, user_id)
        assert user is not None
        return accounts.create_token(session, user, "benchmark")


def prepare(target: Target, backlog: int) -> Prepared:
    fresh_schema(target)
    engine = make_engine(target.url, pool_size=2)
    people = dataset.seed_people(engine, organisations=2, officers=20)
    return Prepared(
        engine=engine,
        people=people,
        head_token=_token(engine, people[0].head),
        second_head_token=_token(engine, people[1].head),
        officer_token=_token(engine, people[0].officer),
        backlog=backlog,
    )


def grow(target: Target, prepared: Prepared, size: int) -> float:
    """Add memos of history until the first organisation has ``size``; refresh the
    planner's statistics and vacuum as a DBA would after a bulk load (``settle``). Returns
    seconds taken."""
    started = time.perf_counter()
    fates = None
    if prepared.memos == 0:
        fates = {f"pending_{key}": prepared.backlog for key, _role, _who in dataset.STEPS}
    history = size - prepared.memos - (len(fates) * prepared.backlog if fates else 0)
    dataset.add_memos(prepared.engine, prepared.people[0].organisation_id, max(0, history), fates)
    prepared.memos = size
    settle(prepared.engine, target)
    return time.perf_counter() - started


def _auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def read_requests(prepared: Prepared, cookie: str, sample: int = 1000) -> dict[str, list[Request]]:
    """The read requests measured, by name: the head of office's inbox and a memo of the
    history picked at random (signed, with its opinions), through the JSON API and as the
    HTML pages; and the API's list of every memo the head may see (page 1 and its total),
    and of an officer's, who sees only the memos they wrote (one of 20 officers)."""
    ids = dataset.memo_ids(prepared.engine, prepared.people[0].organisation_id, "signed", sample)
    api = _auth(prepared.head_token)
    page = {"Cookie": cookie}
    return {
        "GET /api/v1/inbox": [Request("GET", "/api/v1/inbox", api)],
        "GET /api/v1/memos/{id}": [Request("GET", f"/api/v1/memos/{i}", api) for i in ids],
        "GET / (inbox page, HTML)": [Request("GET", "/", page)],
        "GET /memos/{id} (memo page, HTML)": [Request("GET", f"/memos/{i}", page) for i in ids],
        "GET /api/v1/memos (list, with total)": [Request("GET", "/api/v1/memos", api)],
        "GET /api/v1/memos (an officer's list, with total)": [
            Request("GET", "/api/v1/memos", _auth(prepared.officer_token))
        ],
    }


# Measured at 32 connections at the HTTP size (the list is in the scaling table only).
UNDER_LOAD = (
    "GET /api/v1/inbox",
    "GET /api/v1/memos/{id}",
    "GET / (inbox page, HTML)",
    "GET /memos/{id} (memo page, HTML)",
)


def endorse_requests(prepared: Prepared, pool: int) -> list[Request]:
    """One POST endorse for each of ``pool`` fresh memos waiting at the second
    organisation's first step (so the first organisation's inbox stays as it was)."""
    organisation_id = prepared.people[1].organisation_id
    dataset.add_memos(prepared.engine, organisation_id, 0, {"pending_head_of_office": pool})
    ids = dataset.memo_ids(
        prepared.engine, organisation_id, "pending_head_of_office", pool, newest=True
    )
    body = json.dumps({"action": "endorse", "opinion": "เห็นควรเสนอเพื่อโปรดพิจารณา"})
    headers = _auth(prepared.second_head_token, **{"Content-Type": "application/json"})
    return [Request("POST", f"/api/v1/memos/{i}/actions", headers, body) for i in sorted(ids)]


def verify_rate(prepared: Prepared) -> tuple[int, float]:
    """Events verified and seconds taken by a full ``audit.verify``."""
    with make_session_factory(prepared.engine)() as session:
        started = time.perf_counter()
        report = audit.verify(session)
        seconds = time.perf_counter() - started
    if not report.ok:
        raise RuntimeError(f"audit verification failed: {report.problems[:3]}")
    return report.event_count, seconds


# --- EXPLAIN ----------------------------------------------------------------------------


def explain(target: Target, prepared: Prepared) -> list[str]:
    """The plans of the inbox and list queries (and their counts) as the application
    issues them, with the first organisation's head of office as the user."""
    out: list[str] = []
    with make_session_factory(prepared.engine)() as session:
        head = session.get(User, prepared.people[0].head)
        officer = session.get(User, prepared.people[0].officer)
        assert head is not None and officer is not None
        every, signed = queries.ListFilter(), queries.ListFilter(state="signed")
        rare, common = (queries.ListFilter(text=t) for t in ("รถบรรทุกน้ำ", "เดินทางไปราชการ"))
        cases: list[tuple[str, Any]] = [
            ("inbox page (head of office)", _page(queries.inbox_query(session, head))),
            ("inbox count", _count(queries.inbox_query(session, head))),
            ("list page (head of office)", queries.visible_page_query(session, head, every)),
            ("list count, capped (head of office)",
             queries.visible_count_query(session, head, every)),
            ("list page, state=signed (head of office)",
             queries.visible_page_query(session, head, signed)),
            ("list page (an officer: own memos)",
             queries.visible_page_query(session, officer, every)),
            ("list count, capped (an officer)",
             queries.visible_count_query(session, officer, every)),
            ("search page, a text in 0.1 % of the memos (head of office)",
             queries.visible_page_query(session, head, rare)),
            ("search count, a text in 12 % of the memos (head of office)",
             queries.visible_count_query(session, head, common)),
        ]  # fmt: skip
        for title, query in cases:
            out.append(f"-- {title} ({target.label}, {prepared.memos:,} memos)")
            out.extend(query_plan(session, target, query))
            out.append("")
    return out


def _page(query: Any) -> Any:
    return query.limit(queries.PAGE_SIZE).offset(0)


def _count(query: Any) -> Any:
    from sqlalchemy import func

    return select(func.count()).select_from(query.order_by(None).subquery())


# --- the run ----------------------------------------------------------------------------


def _warm_up(base: str, requests: list[Request]) -> None:
    """An unmeasured second on every worker first: a worker's first requests of a kind
    compile templates and statements and fill caches, which is not what is measured."""
    load(base, requests, 2 * WORKERS, 1)


def _http_row(table: Table, label: str, name: str, result: Load, hello: Load | None) -> None:
    table.add(
        label,
        name,
        result.rate,
        result.p50_ms,
        result.p99_ms,
        result.failed,
        result.rate / hello.rate if hello else "",
        result.tool,
    )


def run(
    targets: list[Target],
    sizes: list[int],
    http_size: int,
    seconds: float,
    latency_seconds: float,
    endorse_pool: int,
    workdir: Path,
    hello: Load | None,
    hello_memory: list[tuple[int, float, float]] | None = None,
    backlog: int = BACKLOG,
    verify_up_to: int | None = None,
    warm_cache: bool = True,
) -> Results:
    results = Results(
        http=Table(
            f"b) HTTP: memoflow serve --workers {WORKERS}, {CONNECTIONS} connections,"
            f" {http_size:,} memos stored",
            ["database", "request", "req/s", "p50 ms", "p99 ms", "failed", "÷ hello", "tool"],
        ),
        scaling=Table(
            "c) Scaling: latency at one connection as the memos stored grow",
            [
                "database",
                "request",
                "memos",
                "p50 ms",
                "p99 ms",
                "p50 ÷ smallest",
                "p99 ÷ smallest",
            ],
        ),
        verification=Table(
            "c) Scaling: audit verification (`audit.verify`: every event and every memo)",
            ["database", "memos", "audit events", "seconds", "events/s"],
        ),
        memory=Table(
            f"d) Resident memory per worker after the load (MiB; {WORKERS} workers)",
            ["server", "worker pid", "RSS", "PSS"],
        ),
    )
    if hello is not None:
        _http_row(results.http, "bare Flask", "GET / (hello world)", hello, None)
    for pid, rss, pss in hello_memory or []:
        results.memory.add("bare Flask hello world", pid, rss, pss)
    for target in targets:
        prepared = prepare(target, backlog)
        home = workdir / f"home-{target.kind}"
        home.mkdir(parents=True, exist_ok=True)
        log = workdir / f"serve-{target.kind}.log"
        smallest: dict[str, Load] = {}
        scaling_rows: list[tuple[Any, ...]] = []
        with start_memoflow(target.url, home, log) as server:
            cookie = web_login(server.base, "head", dataset.PASSWORD)
            for size in sizes:
                grow(target, prepared, size)
                if warm_cache:
                    warm_file_cache(target)
                requests = read_requests(prepared, cookie)
                for name, chosen in requests.items():
                    _warm_up(server.base, chosen)
                    result = load(server.base, chosen, 1, latency_seconds)
                    if result.failed:
                        raise RuntimeError(f"{name} failed at {size} memos: see {log}")
                    first = smallest.setdefault(name, result)
                    scaling_rows.append(
                        (target.label, name, size, result.p50_ms, result.p99_ms,
                         result.p50_ms / first.p50_ms, result.p99_ms / first.p99_ms)
                    )  # fmt: skip
                if verify_up_to is None or size <= verify_up_to:
                    events, verify_seconds = verify_rate(prepared)
                    results.verification.add(
                        target.label, size, events, verify_seconds, events / verify_seconds
                    )
                if size == http_size:
                    for name in UNDER_LOAD:
                        _warm_up(server.base, requests[name])
                        result = load(server.base, requests[name], CONNECTIONS, seconds)
                        _http_row(results.http, target.label, name, result, hello)
                    name = "POST /api/v1/memos/{id}/actions endorse"
                    posts = endorse_requests(prepared, endorse_pool)
                    result = load(server.base, posts, CONNECTIONS, seconds, spread=True)
                    _http_row(results.http, target.label, name, result, hello)
                    for pid in server.worker_pids():
                        rss, pss = memory_mb(pid)
                        results.memory.add(f"memoflow, {target.label}", pid, rss, pss)
            results.explain.extend(explain(target, prepared))
        for row in sorted(scaling_rows, key=lambda r: (r[1], r[2])):
            results.scaling.add(*row)
        if http_size in sizes:
            verify_rate(prepared)  # the chain still verifies after the POSTs
        prepared.engine.dispose()
    results.http.notes.append(
        "failed = non-2xx responses and socket errors. POST endorse: every request endorses"
        f" a different memo (a pool of {endorse_pool:,}); its p99 includes waiting for the"
        " database's write lock (SQLite) or the organisation's audit chain head (PostgreSQL)."
        " HTML pages with a signed-in session cookie (logged in through the form)."
    )
    results.scaling.notes.append(
        f"History memos (92 % signed, 5 % rejected, 3 % drafts) plus {backlog} waiting at"
        f" each step; one connection, {latency_seconds:g} s per request and size; memos"
        " picked at random from the whole history."
        + (
            " The SQLite file was read once into the page cache before each size's"
            " measurements (benchmarks.common.warm_file_cache)."
            if warm_cache
            else " Measured with whatever of the files the page cache held (--cold-cache)."
        )
    )
    return results
