"""Serving memoflow with gunicorn, a production WSGI server, from the CLI.

``workers`` processes, each with ``threads`` threads (the gthread worker). The application
is built once in the master and inherited by the forked workers; each worker then opens
database connections of its own (an inherited connection must never be shared across
processes). Nothing that must survive a request lives in a worker's memory: sessions are
signed cookies, state is in the database, and the login rate limit needs a shared storage
(``MEMOFLOW_RATELIMIT_STORAGE_URI``) as soon as there is more than one worker.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

log = logging.getLogger("gunicorn.error")


class GunicornServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def _after_fork(app: Flask) -> None:
    """Drop the database connections inherited from the master (without closing them:
    they belong to the master's sockets); the worker's pool opens its own on first use.
    A bare Flask app (the benchmarks' hello world) has no database to drop."""
    from webapp.db import EXTENSION_KEY

    database = app.extensions.get(EXTENSION_KEY)
    if database is not None:
        database.engine.dispose(close=False)


def _warn_about_process_local_state(app: Flask, workers: int) -> None:
    storage = str(app.config.get("RATELIMIT_STORAGE_URI", ""))
    if workers > 1 and app.config.get("RATELIMIT_ENABLED") and storage.startswith("memory"):
        log.warning(
            "%d workers with an in-memory login rate limit: each worker counts on its own, so"
            " the limit is %d times weaker; set MEMOFLOW_RATELIMIT_STORAGE_URI to a shared"
            " storage (for example redis://127.0.0.1:6379)",
            workers,
            workers,
        )


def gunicorn_options(
    app: Flask, host: str, port: int, workers: int = 1, threads: int = 4, access_log: bool = True
) -> dict[str, Any]:
    """The server settings of ``memoflow serve``; the benchmarks serve their hello-world
    comparison with exactly these."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": "-" if access_log else None,
        "timeout": 60,
        # The heartbeat files live in memory, not on a disk that may stall under load.
        "worker_tmp_dir": "/dev/shm",
        "post_fork": lambda _server, _worker: _after_fork(app),
        "when_ready": lambda _server: _warn_about_process_local_state(app, workers),
    }


def serve(
    app: Flask,
    host: str,
    port: int,
    workers: int = 1,
    threads: int = 4,
    access_log: bool = True,
) -> None:
    """Serve ``app`` until interrupted."""
    server = GunicornServer(app, gunicorn_options(app, host, port, workers, threads, access_log))
    # Everything built so far (the app, SQLAlchemy's mappers, the templates) lives as long
    # as the process: move it out of the garbage collector's sight. Otherwise every full
    # collection walks it all, a 50-60 ms pause that was the p99 of an inbox request;
    # frozen before the fork, those pages also stay shared between the workers.
    gc.collect()
    gc.freeze()
    server.run()
