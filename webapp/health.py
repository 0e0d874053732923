"""``GET /healthz``: the probe a load balancer, systemd or a container runtime asks
whether this worker can serve.

It answers 200 only when the database answers, its schema is at the revision this code
expects, and it can write; otherwise 503 with a stable code and a message in the
reader's language, naming the part that failed (``"part": "database"``):
``database_unavailable`` (the database cannot be reached; details go to the log, not to
an anonymous caller), ``schema_outdated`` (the code was upgraded but ``memoflow db
upgrade`` was not run, so requests would fail on missing columns), ``storage_full`` (the
disk under the database has no room: every write would fail) or
``database_cannot_write`` (it can be read but not written: a read-only file or server).

The write probe leaves nothing behind, and really reaches the disk:

- SQLite: a file of ``PROBE_BYTES`` written, flushed to the disk (fsync) and removed in
  the database's directory, where the database and its write-ahead log grow; then a
  committed ``UPDATE`` of the schema's version row to its own value. A write that is
  rolled back would not do: SQLite keeps it in memory and never touches the disk. A
  committed one alone would not either: the write-ahead log is reused after a checkpoint,
  so a small commit can succeed on a full disk where a larger one fails.
- PostgreSQL: a committed transaction that takes a transaction id (``txid_current()``), so
  that the server writes and flushes a commit record; it fails on a read-only server
  (a standby, ``default_transaction_read_only``) and when the server cannot write its
  log. A full *data* disk shows on PostgreSQL only when a table must grow, and is then
  answered ``503 storage_full`` by the request that needed the room (webapp.errors); no
  probe that leaves nothing behind can foresee it.

A lock not had quickly (``PROBE_LOCK_TIMEOUT_MS``, another request writing) is not a
failure: the database answers, and the part is reported ``busy``.

The other parts are reported without making the worker unhealthy, because everything
else still works without them: ``redis`` (only when ``MEMOFLOW_RATELIMIT_STORAGE_URI`` is
a Redis URL; the login limit falls back to each worker's memory when it is down) and
``pdf`` (Chromium, found as the PDF engine finds it; without it only the PDFs answer
503). Either of them failing makes ``"status": "degraded"`` with 200, so a load balancer
keeps the worker, while monitoring sees what to repair.

No sign-in, no cookie, never cached. One short reading transaction on the request's
session, and the write probe on a connection of its own.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from models import migrate
from models.db import SQLITE_LOCK_ERRORS, is_disconnect, is_lock_timeout, is_storage_full
from webapp.db import database, db_session, rollback
from webapp.errors import error_response, language
from webapp.messages import error_message

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

# The probe file beside a SQLite database: large enough to need fresh blocks of the disk
# (a typical request's write-ahead log frames are a few pages of 4 KiB).
PROBE_BYTES = 64 * 1024
PROBE_PREFIX = ".memoflow-healthz-"
# How long the write probe waits for the write lock (SQLite) or any lock (PostgreSQL).
PROBE_LOCK_TIMEOUT_MS = 2_000
REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://", "redis+sentinel://", "redis+cluster://")
REDIS_TIMEOUT_S = 1.0
REDIS_STORAGE_KEY = "memoflow.health.redis"


class _ProbeFailed(Exception):
    """The write probe failed; ``code`` is what /healthz answers."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _not_cached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _sqlite_directory(engine: Engine) -> Path | None:
    """The directory of a SQLite database file; None for PostgreSQL or an in-memory one."""
    url = make_url(engine.url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database)).resolve().parent


def _probe_file(directory: Path) -> None:
    """Write ``PROBE_BYTES`` beside the database, flush them to the disk, remove them."""
    path = directory / f"{PROBE_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        block = b"\0" * PROBE_BYTES
        written = 0
        while written < PROBE_BYTES:
            written += os.write(descriptor, block[written:])
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
        path.unlink(missing_ok=True)


def _probe_sqlite_commit(engine: Engine) -> None:
    """A committed write that changes nothing: the version row set to its own value,
    straight on the driver with a short busy timeout (the engine's BEGIN IMMEDIATE would
    wait up to the full lock timeout behind a writer), restored afterwards."""
    connection = engine.raw_connection()
    try:
        driver: Any = connection.driver_connection
        (busy_timeout,) = driver.execute("PRAGMA busy_timeout").fetchone()
        driver.execute(f"PRAGMA busy_timeout = {PROBE_LOCK_TIMEOUT_MS}")
        try:
            driver.execute("BEGIN IMMEDIATE")
            try:
                driver.execute(f"UPDATE {migrate.VERSION_TABLE} SET version_num = version_num")
                driver.execute("COMMIT")
            except BaseException:
                if driver.in_transaction:
                    driver.execute("ROLLBACK")
                raise
        finally:
            driver.execute(f"PRAGMA busy_timeout = {int(busy_timeout)}")
    finally:
        connection.close()


def _probe_postgresql_commit(engine: Engine) -> None:
    """A committed transaction with a transaction id: the server writes and flushes its
    commit record (nothing else is written). A read-only transaction (a standby, or
    ``default_transaction_read_only``) would still hand out the id, so it is asked too."""
    with engine.begin() as connection:
        connection.execute(text(f"SET LOCAL lock_timeout = {PROBE_LOCK_TIMEOUT_MS}"))
        connection.execute(text(f"SET LOCAL statement_timeout = {PROBE_LOCK_TIMEOUT_MS * 2}"))
        read_only = connection.execute(
            text("SELECT current_setting('transaction_read_only'), txid_current()")
        ).scalar_one()
        if read_only == "on":
            raise _ProbeFailed("database_cannot_write")


def write_probe(engine: Engine) -> str:
    """``ok``, ``busy``, or raise _ProbeFailed with the code /healthz answers."""
    try:
        directory = _sqlite_directory(engine)
        if directory is not None:
            _probe_file(directory)
            _probe_sqlite_commit(engine)
        elif engine.dialect.name == "postgresql":
            _probe_postgresql_commit(engine)
        return "ok"
    except _ProbeFailed:
        log.error("health check: the database's transactions are read-only")
        raise
    except (OSError, SQLAlchemyError, sqlite3.Error) as error:
        if is_storage_full(error):
            log.error("health check: the database's disk is full: %s", error)
            raise _ProbeFailed("storage_full") from error
        if is_lock_timeout(error) or getattr(error, "sqlite_errorname", "") in SQLITE_LOCK_ERRORS:
            log.warning("health check: the write probe had no lock in time")
            return "busy"
        if is_disconnect(error):
            log.error("health check: the database was lost during the write probe: %s", error)
            raise _ProbeFailed("database_unavailable") from error
        log.exception("health check: the database cannot write")
        raise _ProbeFailed("database_cannot_write") from error


def redis_status(app: Flask) -> str | None:
    """``ok`` or ``unavailable`` for the login limit's Redis; None when none is configured."""
    uri = str(app.config.get("RATELIMIT_STORAGE_URI") or "")
    if not uri.startswith(REDIS_SCHEMES):
        return None
    storage = app.extensions.get(REDIS_STORAGE_KEY)
    try:
        if storage is None:
            from limits.storage import storage_from_string

            storage = app.extensions[REDIS_STORAGE_KEY] = storage_from_string(
                uri, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
            )
        healthy = bool(storage.check())
    except Exception:
        log.exception("health check: the rate limit's Redis could not be checked")
        healthy = False
    if not healthy:
        log.error("health check: the rate limit's Redis does not answer")
    return "ok" if healthy else "unavailable"


def pdf_status() -> str:
    """``ok`` when a PDF can be made here (Playwright and Chromium found, nothing started)."""
    from webapp.document.engine import check_engine
    from webapp.document.errors import DocumentEngineUnavailable

    try:
        check_engine()
    except DocumentEngineUnavailable as error:
        log.warning("health check: PDFs cannot be made: %s", error)
        return "unavailable"
    return "ok"


def _other_parts() -> dict[str, str]:
    parts: dict[str, str] = {}
    redis = redis_status(current_app)
    if redis is not None:
        parts["redis"] = redis
    parts["pdf"] = pdf_status()
    return parts


def _failure(code: str, parts: dict[str, str], **extra: Any) -> Response:
    """503 naming the database as the failed part; ``extra`` goes into the message and
    the JSON error."""
    lang = language()
    key = "storage_full_health" if code == "storage_full" else code
    params = {name: "-" if value is None else value for name, value in extra.items()}
    message = error_message(key, lang, **params)
    parts = {"database": code} | parts
    return _not_cached(error_response(503, code, message, part="database", parts=parts, **extra))


@bp.get("/healthz")
def healthz() -> Response:
    expected = migrate.expected_head()
    try:
        revision = migrate.revision_of(db_session().connection())
    except SQLAlchemyError:
        log.exception("health check: the database did not answer")
        rollback()
        return _failure("database_unavailable", _other_parts())
    rollback()  # the reading transaction is done; the probe writes on its own connection
    if revision != expected:
        return _failure("schema_outdated", _other_parts(), revision=revision, expected=expected)
    try:
        database_part = write_probe(database().engine)
    except _ProbeFailed as failed:
        return _failure(failed.code, _other_parts())
    parts = {"database": database_part} | _other_parts()
    healthy = all(value == "ok" for value in parts.values())
    body = {"status": "ok" if healthy else "degraded", **parts, "revision": revision}
    return _not_cached(jsonify(body))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
