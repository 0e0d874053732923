"""One database session per request or CLI command, and the one place that commits it.

The request owns the transaction (as Indico's request handler does): views and CLI
commands call workflow verbs with ``db_session()`` and never commit. For a request,
``run_view`` is the single commit point: it runs after the view has returned and its
response has been built — so nothing reads the database after the commit and turns a
saved action into an error — and before the response is sent. A writing request whose
answer is a success (status below 400) is committed, together with the answer kept for
its idempotency key (webapp.idempotency); anything else is rolled back. A CLI command
commits with ``with transaction():``. Anything that raises leaves the database
untouched: the error handlers roll back, and the session is closed at the end of the
app context.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, has_request_context, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from models import Base
from models.db import make_engine, make_session_factory

log = logging.getLogger(__name__)

EXTENSION_KEY = "memoflow.db"


# Requests that must not change anything (style: GET never changes state).
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    # For GET requests: on SQLite their transactions begin DEFERRED (models.db.read_only),
    # so page views do not queue behind writers; they refuse to flush changes.
    reading_sessions: sessionmaker[Session]

    @classmethod
    def from_url(cls, url: str, lock_timeout_ms: int | None = None) -> Database:
        engine = make_engine(url, lock_timeout_ms=lock_timeout_ms)
        return cls(
            engine=engine,
            sessions=make_session_factory(engine),
            reading_sessions=make_session_factory(engine, reading=True),
        )

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)


def init_app(app: Flask) -> None:
    # LOCK_TIMEOUT_MS: models.db's default unless the app's config sets one (tests do).
    app.extensions[EXTENSION_KEY] = Database.from_url(
        app.config["DATABASE_URL"], app.config.get("LOCK_TIMEOUT_MS")
    )
    app.teardown_appcontext(close_session)
    from webapp.idempotency import form_keys

    app.jinja_env.globals["form_keys"] = form_keys


def database(app: Flask | None = None) -> Database:
    database: Database = (app or current_app).extensions[EXTENSION_KEY]
    return database


def db_session() -> Session:
    """The session of the current request or command (created on first use): a reading
    session for GET, HEAD and OPTIONS requests, a writing one otherwise."""
    if "db_session" not in g:
        reading = has_request_context() and request.method in READING_METHODS
        g.db_session = (database().reading_sessions if reading else database().sessions)()
    session: Session = g.db_session
    return session


def _commit(session: Session) -> None:
    """The only commit in webapp/ (``run_view`` for requests, ``transaction`` for CLI)."""
    session.commit()


def _requester_id() -> int | None:
    """Who sends this request (bearer token for the API, the sign-in otherwise), if anyone:
    idempotency keys are per user."""
    if request.path.startswith("/api/"):
        from webapp.api.auth import current_api_user

        user = current_api_user()
        return user.id if user is not None else None
    from flask_login import current_user

    return int(current_user.id) if current_user.is_authenticated else None


def run_view(app: Flask, view: Callable[[], ResponseReturnValue]) -> Response:
    """Run the request's view in the request's transaction and finish that transaction:
    the single commit point of every request (see the module docstring).

    A POST with an idempotency key it sent before gets the answer kept for it, without the
    view running again (webapp.idempotency)."""
    from webapp import idempotency

    replayed = None
    key = idempotency.requested_key()
    if key is not None:
        user_id = _requester_id()
        if user_id is not None:
            replayed = idempotency.claim(db_session(), user_id, key)
    response = replayed if replayed is not None else app.make_response(view())
    session: Session | None = g.get("db_session")
    if session is None:
        return response
    if response.status_code < 400 and request.method not in READING_METHODS:
        idempotency.keep(session, response)
        _commit(session)
    else:
        rollback()
    return response


@contextmanager
def transaction() -> Iterator[Session]:
    """A CLI command's transaction: committed when the block ends normally, rolled back
    when it raises (``sys.exit`` included)."""
    session = db_session()
    try:
        yield session
    except BaseException:
        rollback()
        raise
    _commit(session)


def _cause(error: SQLAlchemyError) -> str:
    """The driver's words for a failure, without the statement's parameters."""
    words = str(getattr(error, "orig", None) or "").strip().splitlines()
    return words[0] if words else type(error).__name__


def _discard(session: Session) -> None:
    """Give up a session whose connection failed (terminated by the server, a network
    cut): the pool drops the connection instead of reusing it."""
    try:
        session.invalidate()
    except SQLAlchemyError:  # pragma: no cover - invalidating never needs the server
        log.exception("could not discard a failed database session")


def rollback() -> None:
    """Roll the request's transaction back. A connection that died meanwhile cannot roll
    back, and need not (the server ended its transaction): it is discarded and logged, so
    that an error handler's answer is still sent — never a bare server error page."""
    session = g.get("db_session")
    if session is None:
        return
    try:
        session.rollback()
    except SQLAlchemyError as error:
        # One line, not a traceback: during an outage every request comes here.
        log.warning("rolling back failed (%s); the connection is discarded", _cause(error))
        g.pop("db_session", None)
        _discard(session)


def close_session(_error: BaseException | None = None) -> None:
    """End of the request or command: its answer is decided, and possibly sent. Closing
    must not raise — an error here is outside every error handler — so a connection that
    died after the commit is discarded and logged."""
    session = g.pop("db_session", None)
    if session is None:
        return
    try:
        session.close()
    except SQLAlchemyError as error:
        log.warning("closing the session failed (%s); the connection is discarded", _cause(error))
        _discard(session)
