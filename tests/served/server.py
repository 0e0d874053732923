"""memoflow as its users run it: ``memoflow serve`` (gunicorn, N workers) in a subprocess,
on a free port, with a home of its own, seeded with the demo office.

    with serve(tmp_path) as stack:
        session = requests.Session()
        stack.login(session, "officer", PASSWORD)
        session.get(stack.url + "/")

Nothing here imports the application: the server is reached over HTTP and the command
line only, exactly as a deployment is. Other tests (fault injection, the API fuzzer, the
browser tests) build on this module; keep its interface stable.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PASSWORD = "correct-horse-9"  # the same as tests.conftest.PASSWORD
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
# The parent's MEMOFLOW_* settings must not leak into the served stack (its database, its
# home, its limits are its own); these few describe the machine, not the instance.
INHERITED_SETTINGS = ("MEMOFLOW_CHROMIUM",)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def memoflow_executable() -> str:
    """The ``memoflow`` script of the running interpreter's environment (the venv), else
    the one on PATH."""
    beside = Path(sys.executable).parent / "memoflow"
    if beside.exists():
        return str(beside)
    found = shutil.which("memoflow")
    if found is None:
        raise RuntimeError("no memoflow command: pip install -e . first")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServedStack:
    """A running ``memoflow serve``: its address, home, environment and database."""

    url: str
    home: Path
    env: dict[str, str]
    database_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    password: str = PASSWORD

    def cli(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``memoflow ARGS`` against this stack's home and database."""
        return run_cli(self.env, *args, check=check, input=input)

    def token(self, username: str) -> str:
        """A new API token for USERNAME (``memoflow token create``, its last line)."""
        return self.cli("token", "create", username).stdout.strip().splitlines()[-1]

    def login(self, session: Any, username: str, password: str = PASSWORD) -> Any:
        """Sign ``session`` (a ``requests.Session``) in through the HTML form, CSRF token
        and all. Returns the final response (the inbox); raises if sign-in failed."""
        form = session.get(f"{self.url}/login")
        form.raise_for_status()
        match = _CSRF.search(form.text)
        if match is None:
            raise AssertionError(f"no CSRF token on the sign-in page:\n{form.text[:2000]}")
        answer = session.post(
            f"{self.url}/login",
            data={"csrf_token": match.group(1), "username": username, "password": password},
        )
        if answer.status_code != 200 or answer.url.rstrip("/").endswith("/login"):
            raise AssertionError(
                f"sign-in as {username} failed: {answer.status_code} {answer.url}\n"
                f"{answer.text[:2000]}"
            )
        return answer

    def headers(self, username: str) -> dict[str, str]:
        """``Authorization`` for the API with a new token of USERNAME."""
        return {"Authorization": f"Bearer {self.token(username)}"}

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        """Everything the server wrote (gunicorn's stderr and the access log)."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 80) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


def run_cli(
    env: dict[str, str], *args: str, check: bool = True, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [memoflow_executable(), *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and completed.returncode != 0:
        raise AssertionError(
            f"memoflow {' '.join(args)} exited {completed.returncode}\n"
            f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
        )
    return completed


def served_env(
    home: Path, database_url: str, extra_env: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of a served stack: the parent's, minus its MEMOFLOW_* settings,
    plus this stack's home and database, cheap password hashing, and ``extra_env``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MEMOFLOW_") or key in INHERITED_SETTINGS
    }
    env.update(
        {
            "MEMOFLOW_HOME": str(home),
            "MEMOFLOW_DATABASE_URL": database_url,
            "MEMOFLOW_PASSWORD_HASH": "fast",
            "PYTHONUNBUFFERED": "1",
            # gunicorn (25.1+) opens a control socket at $XDG_RUNTIME_DIR/gunicorn.ctl, else
            # at ~/.gunicorn/gunicorn.ctl: one path for every server of the user. Each
            # stack gets its own, so that stacks running side by side do not take over
            # each other's.
            "XDG_RUNTIME_DIR": str(home / "run"),
        }
    )
    env.update(extra_env or {})
    return env


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"memoflow serve exited {process.returncode} before answering:\n"
                + log_path.read_text(encoding="utf-8", errors="replace")
            )
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
                last = f"{answer.status}"
        except urllib.error.HTTPError as error:
            last = f"{error.code} {error.read()[:2000].decode('utf-8', 'replace')}"
            if error.code == 500:  # a crash, not a server still starting: say so now
                break
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            last = str(error)
        time.sleep(0.1)
    raise RuntimeError(
        f"memoflow serve did not answer /healthz 200 (within {START_TIMEOUT_S:.0f} s)"
        f" (last: {last}):\n" + log_path.read_text(encoding="utf-8", errors="replace")
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to gunicorn's master (a graceful stop of its workers), then SIGKILL to the
    whole process group (it was started in a group of its own) if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT_S)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # workers orphaned by a killed master
    process.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def serve(
    home: Path,
    *,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    workers: int = 2,
    password: str = PASSWORD,
    seed: bool = True,
) -> Iterator[ServedStack]:
    """Seed (``memoflow demo --no-serve``) and serve memoflow from ``home``; stop it at exit.

    ``database_url`` defaults to SQLite in ``home``; a PostgreSQL database must exist and
    should belong to this stack alone. ``extra_env`` adds or overrides MEMOFLOW_* settings
    (``MEMOFLOW_MAX_UPLOAD_MB``, ``MEMOFLOW_CHROMIUM`` ...). If the block raises, the
    server's log is printed to stderr."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    database_url = database_url or f"sqlite:///{home / 'memoflow.sqlite3'}"
    env = served_env(home, database_url, extra_env)
    Path(env["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
    if seed:
        run_cli(env, "demo", "--no-serve", "--password", password)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = home / "serve.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                memoflow_executable(),
                "serve",
                "--workers",
                str(workers),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack = ServedStack(
        url=url,
        home=home,
        env=env,
        database_url=database_url,
        process=process,
        log_path=log_path,
        password=password,
    )
    try:
        _wait_until_healthy(process, url, log_path)
        yield stack
    except BaseException:
        print(f"--- memoflow serve log ({log_path}) ---", file=sys.stderr)
        print(stack.log_tail(200), file=sys.stderr)
        raise
    finally:
        _stop(process)


def create_database(admin_url: str, name: str) -> str:
    """CREATE DATABASE ``name`` (dropped first if a crashed run left it) on the server of
    ``admin_url``; returns its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"not a plain database name: {name!r}")
    url = make_url(admin_url)
    with psycopg.connect(libpq_url(url.set(database="postgres")), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    with psycopg.connect(libpq_url(url.set(database="postgres")), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def libpq_url(url: Any) -> str:
    """A SQLAlchemy URL (or its text) as psycopg takes it: no driver suffix."""
    from sqlalchemy.engine import make_url

    return str(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))


@contextmanager
def own_database(admin_url: str, name: str) -> Iterator[str]:
    """A PostgreSQL database of its own for a served stack, named ``name`` on the server of
    ``admin_url``; dropped at exit."""
    url = create_database(admin_url, name)
    try:
        yield url
    finally:
        drop_database(admin_url, name)


@contextmanager
def database_of_its_own(suffix: str) -> Iterator[str | None]:
    """For a served stack in a test run: on the PostgreSQL pass (MEMOFLOW_TEST_DATABASE_URL
    is a postgresql URL), a new database ``<that database>_<suffix>`` on the same server,
    dropped at exit; otherwise None (``serve`` then uses SQLite in the stack's home). Never
    the test database itself, which other tests empty before each test."""
    url = os.environ.get("MEMOFLOW_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield None
        return
    from sqlalchemy.engine import make_url

    with own_database(url, f"{make_url(url).database}_{suffix}") as own:
        yield own
