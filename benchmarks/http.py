"""HTTP load: ``memoflow serve`` (and a bare Flask hello world with the same gunicorn
settings) under wrk, or under a Python load generator where wrk is missing; resident
memory of the workers.

wrk runs with a Lua script whose ``done`` hook prints the exact counts and percentiles,
so nothing is parsed from wrk's human-readable summary.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
WORKERS = 4
THREADS = 4
CONNECTIONS = 32


@dataclass
class Load:
    """The outcome of one load run."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int  # non-2xx responses and socket errors
    tool: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: str = ""


def web_login(base: str, username: str, password: str) -> str:
    """Sign in through the login form (CSRF token included) the way a browser does; return
    the ``Cookie`` header value of the signed-in session."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", "/login")
    response = connection.getresponse()
    html = response.read().decode()
    cookies = SimpleCookie(response.getheader("Set-Cookie") or "")
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if match is None:
        raise RuntimeError("no CSRF token on the login page")
    form = urlencode({"csrf_token": match.group(1), "username": username, "password": password})
    connection.request(
        "POST",
        "/login",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v.value}" for k, v in cookies.items()),
        },
    )
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 302:
        raise RuntimeError(f"login as {username} failed ({response.status})")
    cookies.load(response.getheader("Set-Cookie") or "")
    # The first page after signing in shows the welcome message and takes it out of the
    # session, as a browser's does: a load replaying the cookie must not carry it.
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request(
        "GET", "/", headers={"Cookie": "; ".join(f"{k}={v.value}" for k, v in cookies.items())}
    )
    response = connection.getresponse()
    response.read()
    connection.close()
    cookies.load(response.getheader("Set-Cookie") or "")
    return "; ".join(f"{k}={v.value}" for k, v in cookies.items())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- servers ----------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


@contextmanager
def serving(command: list[str], env: dict[str, str], log: Path) -> Iterator[Server]:
    """Start a server process, wait until it answers, stop it (SIGTERM) afterwards."""
    port = free_port()
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=out, stderr=out, cwd=REPO
        )
    server = Server(process, port)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited; see {log}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/")
                connection.getresponse().read()
                connection.close()
                if len(server.worker_pids()) >= 1:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {log}")
            time.sleep(0.2)
        time.sleep(1)  # every worker booted
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def memoflow_server(database_url: str, home: Path, log: Path) -> AbstractContextManager[Server]:
    """``memoflow serve --workers 4`` on ``database_url`` (the real console entry point)."""
    env = os.environ | {
        "MEMOFLOW_DATABASE_URL": database_url,
        "MEMOFLOW_HOME": str(home),
        "MEMOFLOW_SECRET_KEY": "benchmark-secret-key",
        "PYTHONPATH": str(REPO),
    }
    command = [sys.executable, "-c", "from webapp.cli import main; main()", "serve"]
    command += ["--workers", str(WORKERS), "--threads", str(THREADS)]
    return serving(command, env, log)


def hello_server(log: Path) -> AbstractContextManager[Server]:
    """A bare Flask hello world behind the same gunicorn settings (benchmarks.hello)."""
    env = os.environ | {"PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "benchmarks.hello"]
    command += ["--workers", str(WORKERS), "--threads", str(THREADS)]
    return serving(command, env, log)


# --- memory -----------------------------------------------------------------------------


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident set size and proportional set size (shared pages divided among the
    processes sharing them) of one process, in MiB."""
    rss = pss = 0.0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == "Rss":
            rss = int(value.split()[0]) / 1024
        elif name == "Pss":
            pss = int(value.split()[0]) / 1024
    return rss, pss


# --- load -------------------------------------------------------------------------------

_DONE_HOOK = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("MEMOFLOW_RESULT %d %d %d %d %d %d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal of ASCII is a valid Lua string


def _wrk_script(requests: list[Request], spread: bool, threads: int) -> str:
    """Lua for wrk: cycle through ``requests``; with ``spread`` each wrk thread takes its
    own interleaved share, so no request is sent twice (for POSTs that act once)."""
    items = ",\n".join(
        "{"
        + f"method={_lua_string(r.method)}, path={_lua_string(r.path)}, "
        + "headers={"
        + ", ".join(f"[{_lua_string(k)}]={_lua_string(v)}" for k, v in r.headers.items())
        + "}, "
        + f"body={_lua_string(r.body)}"
        + "}"
        for r in requests
    )
    return f"""
local items = {{
{items}
}}
local threads_total = 0
local counter = 0
setup = function(thread)
  thread:set("thread_index", threads_total)
  threads_total = threads_total + 1
  thread:set("thread_count", {threads})
end
request = function()
  local i
  if {"true" if spread else "false"} then
    i = (thread_index or 0) + counter * (thread_count or 1)
  else
    i = math.random(0, #items - 1)
  end
  counter = counter + 1
  local item = items[(i % #items) + 1]
  local body = nil
  if item.body ~= "" then body = item.body end
  return wrk.format(item.method, item.path, item.headers, body)
end
{_DONE_HOOK}
"""


def run_wrk(
    base: str, requests: list[Request], connections: int, seconds: float, spread: bool
) -> Load:
    threads = 2 if connections >= 2 else 1
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_wrk_script(requests, spread, threads))
    try:
        completed = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "-s",
                script.name,
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script.name)
    line = next(x for x in completed.stdout.splitlines() if x.startswith("MEMOFLOW_RESULT"))
    count, duration_us, p50, p99, status_errors, socket_errors = map(int, line.split()[1:])
    return Load(
        requests=count,
        seconds=duration_us / 1e6,
        p50_ms=p50 / 1000,
        p99_ms=p99 / 1000,
        failed=status_errors + socket_errors,
        tool="wrk",
    )


def run_python(
    base: str, requests: list[Request], connections: int, seconds: float, spread: bool
) -> Load:
    """A closed-loop load generator: ``connections`` keep-alive connections, each sending
    its next request as soon as the previous answer arrived (like wrk, slower)."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    failed = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    next_index = [0]

    def pick() -> Request:
        with lock:
            index = next_index[0]
            next_index[0] += 1
        return requests[index % len(requests)] if spread else random.choice(requests)

    def client() -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        mine: list[float] = []
        errors = 0
        while time.perf_counter() < deadline:
            request = pick()
            started = time.perf_counter()
            try:
                connection.request(
                    request.method,
                    request.path,
                    body=request.body.encode() if request.body else None,
                    headers=request.headers,
                )
                response = connection.getresponse()
                response.read()
                if response.status >= 300:
                    errors += 1
            except OSError:
                errors += 1
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=30)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            failed[0] += errors

    started = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def percentile(share: float) -> float:
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1000

    return Load(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=percentile(0.50) if latencies else 0.0,
        p99_ms=percentile(0.99) if latencies else 0.0,
        failed=failed[0],
        tool="python",
    )


def load(
    base: str,
    requests: list[Request],
    connections: int = CONNECTIONS,
    seconds: float = 10,
    spread: bool = False,
) -> Load:
    """Drive ``requests`` (picked at random, or each once in order with ``spread``)."""
    if not requests:
        raise ValueError("nothing to request")
    runner: Callable[..., Load] = run_wrk if shutil.which("wrk") else run_python
    return runner(base, requests, connections, seconds, spread)
