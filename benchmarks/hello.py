"""A bare Flask hello world served exactly as ``memoflow serve`` serves memoflow (same
gunicorn options from webapp.server), the yardstick of the HTTP benchmark:
``python -m benchmarks.hello --port 8200 --workers 4 --threads 4``."""

from __future__ import annotations

import argparse

from flask import Flask

from webapp.server import serve

app = Flask("hello")


@app.get("/")
def hello() -> str:
    return "hello"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    options = parser.parse_args()
    serve(app, options.host, options.port, options.workers, options.threads)


if __name__ == "__main__":
    main()
