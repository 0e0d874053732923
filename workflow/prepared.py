"""The hot statements of the read and write paths, compiled once per dialect and run on
the driver connection of the session's transaction.

A Core statement run through a Session or ``Connection.execute`` builds an execution
context, looks its compiled form up in the cache by key and wraps the cursor in a result:
about 200 k instructions each, more than a bare Flask request costs in all, and a decision
runs eleven of them (issue 19). The statements that every API or page request runs (the
bearer token's or the sign-in's user, the inbox) and those every workflow action runs (the
memo's lock and update, its opinions and attachments, the opinion's insert, the audit
chain's head and event, the register) are compiled here once per dialect, and per set of
columns given for an INSERT or UPDATE, exactly as ``Connection.execute`` compiles them
(``column_keys``: the keys of the values). They run on the driver connection of the
session's own transaction (same pool, same BEGIN, same rollback) with SQLAlchemy's own
conversions of parameters and columns (SQLite keeps dates, times and JSON as text):
callers get the values a Core query would give them, as plain tuples.

Any kind of statement: SELECT, INSERT, UPDATE and DELETE, with RETURNING and
``executemany``. A statement of the write path is made with ``writing=True``: it runs on
the session's writing connection (``models.db.writing_connection``), which a reading
session refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnDefault, Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable

from models.db import writing_connection

Row = tuple[Any, ...]
_Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # The parameters' names in the order of the SQL's placeholders (SQLite's ``?``), or
    # None for named placeholders (psycopg's ``%(name)s``).
    order: tuple[str, ...] | None
    # Values of parameters the statement carries itself (a literal, a column default).
    fixed: dict[str, Any]
    binds: tuple[tuple[str, _Processor], ...]
    columns: tuple[tuple[int, _Processor], ...]


def _compile(statement: Any, dialect: Dialect, keys: tuple[str, ...] | None) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=keys)
    # Columns not given whose default SQLAlchemy supplies at execution: a constant is
    # supplied here the same way; one computed in Python must be given by the caller.
    defaults: dict[str, Any] = {}
    for column in [*compiled.insert_prefetch, *compiled.update_prefetch]:
        default = column.default if column in compiled.insert_prefetch else column.onupdate
        if not (isinstance(default, ColumnDefault) and default.is_scalar):
            raise ValueError(f"give {column} a value: its default is computed at execution")
        defaults[column.key] = default.arg
    binds = compiled.binds
    if any(bind.expanding for bind in binds.values()):
        raise ValueError("a prepared statement takes no expanding IN parameter")
    bind_processors = []
    for name, bind in binds.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            bind_processors.append((name, processor))
    column_processors = []
    # A SELECT's columns, or those of a write's RETURNING (none without).
    for index, column in enumerate(statement.exported_columns):
        processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if processor is not None:
            column_processors.append((index, processor))
    positions = compiled.positiontup or []
    return _Compiled(
        sql=str(compiled),
        order=tuple(positions) if compiled.positional else None,
        fixed={name: bind.effective_value for name, bind in binds.items() if not bind.required}
        | defaults,
        binds=tuple(bind_processors),
        columns=tuple(column_processors),
    )


# Where the session's writing connection is kept between statements (Session.info).
_CONNECTION = "memoflow.writing_connection"


def transaction_connection(session: Session) -> Connection:
    """The session's writing connection (``models.db.writing_connection``), asked of the
    session once per transaction: a session's transaction keeps its connection until it
    ends, and its end closes it (the next transaction gets another)."""
    held: Connection | None = session.info.get(_CONNECTION)
    if held is None or held.closed or not held.in_transaction():
        held = session.info[_CONNECTION] = writing_connection(session)
    return held


class Prepared:
    """A statement compiled once per dialect (and per set of value keys, for an INSERT or
    UPDATE whose columns are the values given, as ``Connection.execute`` compiles it);
    ``rows`` runs it in the session's transaction and returns its rows (a SELECT's, those
    of RETURNING, or none). With ``writing`` it runs on the session's writing connection,
    which a reading session refuses.

    Its parameters are named ``bindparam``s (no expanding IN: build one statement per
    length instead); driver errors are raised as SQLAlchemy's, as a Session would."""

    def __init__(
        self, statement: Executable, *, by_keys: bool = False, writing: bool = False
    ) -> None:
        self.statement = statement
        # Whether the value keys choose the columns (an INSERT or an UPDATE's SET).
        self.by_keys = by_keys
        self.writing = writing
        self._compiled: dict[tuple[Dialect, tuple[str, ...] | None], _Compiled] = {}

    def compiled(self, dialect: Dialect, keys: tuple[str, ...] | None = None) -> _Compiled:
        found = self._compiled.get((dialect, keys))
        if found is None:
            found = self._compiled[(dialect, keys)] = _compile(self.statement, dialect, keys)
        return found

    def _connection(self, session: Session) -> Connection:
        return transaction_connection(session) if self.writing else session.connection()

    def rows(self, session: Session, values: Mapping[str, Any]) -> list[Row]:
        connection = self._connection(session)
        keys = tuple(sorted(values)) if self.by_keys else None
        compiled = self._compiled.get((connection.dialect, keys)) or self.compiled(
            connection.dialect, keys
        )
        parameters = _parameters(compiled, values)
        rows = _run(connection, compiled, parameters, many=False)
        if compiled.columns:
            rows = [_converted(row, compiled.columns) for row in rows]
        return rows

    def first(self, session: Session, values: Mapping[str, Any]) -> Row | None:
        rows = self.rows(session, values)
        return rows[0] if rows else None

    def one(self, session: Session, values: Mapping[str, Any]) -> Row:
        rows = self.rows(session, values)
        if len(rows) != 1:
            raise LookupError(f"expected one row, got {len(rows)}")
        return rows[0]

    def many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once per row of values (all with the same keys): the
        driver's ``executemany``."""
        if not rows:
            return
        connection = self._connection(session)
        keys = tuple(sorted(rows[0])) if self.by_keys else None
        compiled = self._compiled.get((connection.dialect, keys)) or self.compiled(
            connection.dialect, keys
        )
        _run(connection, compiled, [_parameters(compiled, row) for row in rows], many=True)


def _parameters(compiled: _Compiled, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
    found = dict(compiled.fixed, **values) if compiled.fixed else dict(values)
    for name, processor in compiled.binds:
        found[name] = processor(found[name])
    return found if compiled.order is None else [found[name] for name in compiled.order]


def _run(connection: Connection, compiled: _Compiled, parameters: Any, *, many: bool) -> list[Row]:
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    try:
        cursor = driver.cursor()  # type: ignore[union-attr]
        if connection._has_events or connection.engine._has_events:
            # Listeners see the statement as they would through a Session (tests count
            # statements this way).
            for listener in connection.dispatch.before_cursor_execute:
                listener(connection, cursor, compiled.sql, parameters, None, many)
        if many:
            cursor.executemany(compiled.sql, parameters)
            rows: list[Row] = []
        else:
            cursor.execute(compiled.sql, parameters)
            # A write without RETURNING has no rows (and no description).
            rows = cursor.fetchall() if cursor.description is not None else []
        cursor.close()
    except dialect.loaded_dbapi.Error as error:
        invalidated = dialect.is_disconnect(error, connection.connection, None)
        if invalidated:
            connection.invalidate(error)
        raise DBAPIError.instance(
            compiled.sql,
            parameters,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=invalidated,
            dialect=dialect,
        ) from error
    return rows


def _converted(row: Row, columns: tuple[tuple[int, _Processor], ...]) -> Row:
    values = list(row)
    for index, processor in columns:
        values[index] = processor(values[index])
    return tuple(values)
