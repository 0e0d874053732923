"""The read path's hot statements, compiled once per dialect and run on the session's
driver connection.

A Core statement run through a Session builds an execution context, finds its compiled
form in the cache by key and wraps the cursor in a result: about 200 k instructions each,
more than a bare Flask request costs in all (issue 19). The statements that every API or
page request runs (the bearer token's or the sign-in's user, the inbox) are compiled once
per dialect here and run on the driver connection of the session's own transaction (same
pool, same BEGIN, same rollback), with SQLAlchemy's own conversions of parameters and
columns (SQLite keeps dates and times as text): callers get the values a Core query would
give them, as plain tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Dialect, Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

Row = tuple[Any, ...]
if TYPE_CHECKING:
    # Any SELECT, whatever its columns (as workflow.queries.HeadingRows).
    AnySelect = Select[*tuple[Any, ...]]
_Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # The parameters' names in the order of the SQL's placeholders (SQLite's ``?``), or
    # None for named placeholders (psycopg's ``%(name)s``).
    order: tuple[str, ...] | None
    # Values of parameters the statement carries itself (a literal in a comparison).
    fixed: dict[str, Any]
    binds: tuple[tuple[str, _Processor], ...]
    columns: tuple[tuple[int, _Processor], ...]


def _compile(statement: AnySelect, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    binds = compiled.binds
    if any(bind.expanding for bind in binds.values()):
        raise ValueError("a prepared statement takes no expanding IN parameter")
    bind_processors = []
    for name, bind in binds.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            bind_processors.append((name, processor))
    column_processors = []
    for index, column in enumerate(statement.selected_columns):
        processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if processor is not None:
            column_processors.append((index, processor))
    positions = compiled.positiontup or []
    return _Compiled(
        sql=str(compiled),
        order=tuple(positions) if compiled.positional else None,
        fixed={name: bind.effective_value for name, bind in binds.items() if not bind.required},
        binds=tuple(bind_processors),
        columns=tuple(column_processors),
    )


class Prepared:
    """A SELECT compiled once per dialect; ``rows`` runs it in the session's transaction.

    Its parameters are named ``bindparam``s (no expanding IN: build one statement per
    length instead); driver errors are raised as SQLAlchemy's, as a Session would."""

    def __init__(self, statement: AnySelect) -> None:
        self.statement = statement
        self._compiled: dict[Dialect, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect)
        if found is None:
            found = self._compiled[dialect] = _compile(self.statement, dialect)
        return found

    def rows(self, session: Session, values: Mapping[str, Any]) -> list[Row]:
        connection = session.connection()
        dialect = connection.dialect
        compiled = self._compiled.get(dialect) or self.compiled(dialect)
        found = dict(compiled.fixed, **values) if compiled.fixed else dict(values)
        for name, processor in compiled.binds:
            found[name] = processor(found[name])
        parameters: Sequence[Any] | Mapping[str, Any] = (
            found if compiled.order is None else [found[name] for name in compiled.order]
        )
        driver = connection.connection.driver_connection
        try:
            cursor = driver.cursor()  # type: ignore[union-attr]
            if connection._has_events or connection.engine._has_events:
                # Listeners see the statement as they would through a Session (tests
                # count statements this way).
                for listener in connection.dispatch.before_cursor_execute:
                    listener(connection, cursor, compiled.sql, parameters, None, False)
            cursor.execute(compiled.sql, parameters)
            rows: list[Row] = cursor.fetchall()
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
        if compiled.columns:
            rows = [_converted(row, compiled.columns) for row in rows]
        return rows

    def first(self, session: Session, values: Mapping[str, Any]) -> Row | None:
        rows = self.rows(session, values)
        return rows[0] if rows else None


def _converted(row: Row, columns: tuple[tuple[int, _Processor], ...]) -> Row:
    values = list(row)
    for index, processor in columns:
        values[index] = processor(values[index])
    return tuple(values)
