"""One database session per request or CLI command, and the transaction around it.

Views call workflow verbs with ``db_session()`` and then ``commit()``; anything that
raises before the commit leaves the database untouched, because the session is rolled
back by the error handlers and closed at the end of the app context.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from models import Base
from models.db import make_engine, make_session_factory

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


def commit() -> None:
    db_session().commit()


def rollback() -> None:
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def close_session(_error: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
