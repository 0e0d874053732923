"""The text index behind a list's search box: a substring of a memo's subject or number.

A substring (``LIKE '%...%'``) has no ordinary index, so a search that matched little read
every memo of the organisation (benchmarks/RESULTS.md at 47590cd). Thai is written without spaces
between words, so a word index would need a Thai word breaker; an index of trigrams (every
three consecutive characters) finds any substring of three characters or more, in Thai as
in numbers like "72001/97009", with no word breaking at all:

- SQLite: an FTS5 table with the ``trigram`` tokenizer (SQLite 3.34 or newer) over the
  memo table's ``subject`` and ``number`` (external content: the text stays in ``memo``),
  kept up to date by triggers. Only a change of subject or number touches it; a decision
  (state and version) does not.
- PostgreSQL: GIN indexes of the ``pg_trgm`` extension on ``subject`` and ``number``,
  which the planner uses for ``LIKE '%...%'`` by itself. The extension is created in
  ``public`` and its operator class named with that schema, so databases working in
  schemas of their own (the tests, the benchmarks) share one extension and never drop it.

Neither is expressible as a model column or index, so this module owns their DDL: the
models' ``create_all`` runs it after the memo table is made (the tests build their
databases that way), and migration 0008 runs the same statements. ``workflow.queries``
searches through the FTS5 table on SQLite. Alembic's comparison of models and database
leaves the text index to this module (``include_name``).
"""

from __future__ import annotations

from sqlalchemy import Connection, event, text

from models.memo import Memo

# The FTS5 table (SQLite) and the trigram indexes (PostgreSQL).
TEXT_TABLE = "memo_text"
SEARCH_INDEXES = ("ix_memo_subject_trgm", "ix_memo_number_trgm")
# Three characters make a trigram: a shorter substring cannot be looked up in either index.
SHORTEST_INDEXED = 3

SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TEXT_TABLE} USING fts5("
    " subject, number, content='memo', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {TEXT_TABLE}_after_insert AFTER INSERT ON memo BEGIN"
    f" INSERT INTO {TEXT_TABLE} (rowid, subject, number) VALUES (new.id, new.subject, new.number);"
    " END",
    f"CREATE TRIGGER IF NOT EXISTS {TEXT_TABLE}_after_delete AFTER DELETE ON memo BEGIN"
    f" INSERT INTO {TEXT_TABLE} ({TEXT_TABLE}, rowid, subject, number)"
    " VALUES ('delete', old.id, old.subject, old.number);"
    " END",
    # An FTS5 external-content table forgets a row by being told its old values.
    f"CREATE TRIGGER IF NOT EXISTS {TEXT_TABLE}_after_update AFTER UPDATE OF subject, number"
    " ON memo BEGIN"
    f" INSERT INTO {TEXT_TABLE} ({TEXT_TABLE}, rowid, subject, number)"
    " VALUES ('delete', old.id, old.subject, old.number);"
    f" INSERT INTO {TEXT_TABLE} (rowid, subject, number) VALUES (new.id, new.subject, new.number);"
    " END",
)
SQLITE_DROP = (
    f"DROP TRIGGER IF EXISTS {TEXT_TABLE}_after_update",
    f"DROP TRIGGER IF EXISTS {TEXT_TABLE}_after_delete",
    f"DROP TRIGGER IF EXISTS {TEXT_TABLE}_after_insert",
    f"DROP TABLE IF EXISTS {TEXT_TABLE}",
)

POSTGRESQL_DDL = (
    # pg_trgm is a trusted extension: the database's owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public",
    "CREATE INDEX IF NOT EXISTS ix_memo_subject_trgm ON memo"
    " USING gin (subject public.gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_memo_number_trgm ON memo USING gin (number public.gin_trgm_ops)",
    # Whether the trigram indexes beat walking the newest memos depends on how many memos
    # a text matches; the planner estimates it by trying the text on a sample of the
    # column's values. With the default hundred, a memo number (each one different)
    # matched none, the estimate was "many", and a number found in 11 memos of 100,000
    # was looked for by walking them all (90 ms instead of 2).
    "ALTER TABLE memo ALTER COLUMN subject SET STATISTICS 1000",
    "ALTER TABLE memo ALTER COLUMN number SET STATISTICS 1000",
    "ANALYZE memo",
)
POSTGRESQL_DROP = (
    "ALTER TABLE memo ALTER COLUMN number SET STATISTICS -1",
    "ALTER TABLE memo ALTER COLUMN subject SET STATISTICS -1",
    "DROP INDEX IF EXISTS ix_memo_number_trgm",
    "DROP INDEX IF EXISTS ix_memo_subject_trgm",
    # The extension stays: other schemas of the database may use it.
)


class TextIndexUnavailable(RuntimeError):
    """SQLite without FTS5's trigram tokenizer (older than 3.34)."""


def _check_sqlite(connection: Connection) -> None:
    version = connection.execute(text("SELECT sqlite_version()")).scalar_one()
    if tuple(int(part) for part in version.split(".")[:2]) < (3, 34):
        raise TextIndexUnavailable(
            f"SQLite {version} has no FTS5 trigram tokenizer; memoflow needs SQLite 3.34 or"
            " newer (Python 3.11's own builds have it)"
        )


def create_text_index(connection: Connection) -> None:
    """Create the text index of the memo table on ``connection``'s database and fill it
    from the memos already there."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        _check_sqlite(connection)
        existed = connection.execute(
            text("SELECT 1 FROM sqlite_master WHERE name = :name"), {"name": TEXT_TABLE}
        ).first()
        for statement in SQLITE_DDL:
            connection.execute(text(statement))
        if not existed:
            connection.execute(text(f"INSERT INTO {TEXT_TABLE} ({TEXT_TABLE}) VALUES ('rebuild')"))
    elif dialect == "postgresql":
        for statement in POSTGRESQL_DDL:
            connection.execute(text(statement))


def drop_text_index(connection: Connection) -> None:
    dialect = connection.dialect.name
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(dialect, ())
    for statement in statements:
        connection.execute(text(statement))


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name`` hook: everything but the text index, which its
    comparison of models and database must leave to this module."""
    if type_ == "table":
        return not (name or "").startswith(TEXT_TABLE)
    return not (type_ == "index" and name in SEARCH_INDEXES)


def _after_memo_created(_table: object, connection: Connection, **_: object) -> None:
    create_text_index(connection)


def _before_memo_dropped(_table: object, connection: Connection, **_: object) -> None:
    drop_text_index(connection)


event.listen(Memo.__table__, "after_create", _after_memo_created)
event.listen(Memo.__table__, "before_drop", _before_memo_dropped)
