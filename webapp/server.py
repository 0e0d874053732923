"""Serving memoflow with gunicorn, a production WSGI server, from the CLI."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


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


def _dispose_engine(app: Flask) -> None:
    from webapp.db import database

    database(app).engine.dispose(close=False)


def serve(app: Flask, host: str, port: int, workers: int = 1, threads: int = 4) -> None:
    GunicornServer(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": "-",
            "timeout": 60,
            # Each worker must open its own database connections, never share the
            # parent's across fork.
            "post_fork": lambda _server, _worker: _dispose_engine(app),
        },
    ).run()
