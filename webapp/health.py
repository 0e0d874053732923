"""``GET /healthz``: the probe a load balancer, systemd or a container runtime asks
whether this worker can serve.

It answers 200 only when the database answers and its schema is at the revision this
code expects; otherwise 503 with a stable code and a message in the reader's language:
``database_unavailable`` (the database cannot be reached; details go to the log, not to
an anonymous caller) or ``schema_outdated`` (the code was upgraded but ``memoflow db
upgrade`` was not run, so requests would fail on missing columns). No sign-in, no
cookie, never cached. One short reading transaction.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

from models import migrate
from webapp.db import db_session, rollback
from webapp.errors import error_response, language
from webapp.messages import error_message

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


def _not_cached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz() -> Response:
    lang = language()
    expected = migrate.expected_head()
    try:
        revision = migrate.revision_of(db_session().connection())
    except SQLAlchemyError:
        log.exception("health check: the database did not answer")
        rollback()
        code = "database_unavailable"
        return _not_cached(error_response(503, code, error_message(code, lang)))
    if revision != expected:
        code = "schema_outdated"
        message = error_message(code, lang, revision=revision or "-", expected=expected)
        return _not_cached(error_response(503, code, message, revision=revision, expected=expected))
    return _not_cached(jsonify(status="ok", database="ok", revision=revision))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
