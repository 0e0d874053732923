"""Schema migrations without Flask: bring a database to the models' revision, say which
revision it is at, compare it with the models, write a new revision.

The Alembic environment lives in ``models/migrations`` (env.py, script.py.mako,
versions/). There is no alembic.ini: the configuration is built here, so the CLI
(``memoflow db ...``), the tests and a deployment script need only a database URL.
How to add a revision: docs/migrations.md.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.pool import NullPool

from models import search
from models.base import Base
from models.db import MIGRATION_LOCK_TIMEOUT_MS, make_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
# The revision that describes the schema memoflow had before it had migrations; a
# database created then by ``create_all`` is adopted at this revision (see ``upgrade``).
BASELINE_REVISION = "0001"
BASELINE_TABLES = frozenset(
    {
        "acting_authorisation",
        "api_token",
        "attachment",
        "audit_chain_head",
        "audit_event",
        "blob",
        "memo",
        "memo_route_role",
        "opinion",
        "organisation",
        "register_counter",
        "register_entry",
        "security_event",
        "user_account",
    }
)


def alembic_config(url: str | None = None, **attributes: Any) -> Config:
    """An Alembic configuration for ``url`` (or for ``attributes["connection"]``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Revisions are named "<number>_<slug>.py" so they list in order.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if importlib.util.find_spec("ruff") is not None:
        # New revision files come out ruff-clean (imports sorted and unused ones dropped,
        # formatted); ruff is in the [test] extra, so developers have it.
        config.set_section_option("post_write_hooks", "hooks", "ruff_fix, ruff_format")
        for hook, options in (
            ("ruff_fix", "check --fix --quiet REVISION_SCRIPT_FILENAME"),
            ("ruff_format", "format --quiet REVISION_SCRIPT_FILENAME"),
        ):
            config.set_section_option("post_write_hooks", f"{hook}.type", "module")
            config.set_section_option("post_write_hooks", f"{hook}.module", "ruff")
            config.set_section_option("post_write_hooks", f"{hook}.options", options)
    config.attributes["database_url"] = url
    config.attributes.update(attributes)
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision in models/migrations/versions (there must be exactly one)."""
    heads = script_directory().get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"expected one head revision, found {heads}; merge them")
    return heads[0]


@functools.cache
def expected_head() -> str:
    """``head()``, read from the revision files once per process (for the health check,
    which asks on every probe; the files do not change while the code runs)."""
    return head()


def revision_of(connection: Connection) -> str | None:
    """The revision of the database ``connection`` is connected to, in its transaction."""
    heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(heads) if heads else None


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url, poolclass=NullPool, lock_timeout_ms=MIGRATION_LOCK_TIMEOUT_MS)
    try:
        yield engine
    finally:
        engine.dispose()


def current(url: str) -> str | None:
    """The revision the database at ``url`` is at; None if it has never been migrated."""
    with _engine(url) as engine, engine.connect() as connection:
        revision = revision_of(connection)
        connection.rollback()
    return revision


def _adopt_unversioned(url: str) -> None:
    """Mark a database that ``create_all`` made before memoflow had migrations as being
    at the baseline revision, so upgrading continues from there instead of failing on
    tables that already exist. An empty or already versioned database is left alone."""
    with _engine(url) as engine, engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        connection.rollback()
    if VERSION_TABLE in tables or not tables & BASELINE_TABLES:
        return
    if missing := BASELINE_TABLES - tables:
        raise RuntimeError(
            "this database predates migrations and lacks tables of the baseline revision"
            f" ({', '.join(sorted(missing))}); back it up and migrate a new one"
        )
    command.stamp(alembic_config(url), BASELINE_REVISION)


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (the newest by default). An empty
    database gets the whole schema; a database made by ``create_all`` before migrations
    existed is adopted at the baseline revision first, then upgraded."""
    _adopt_unversioned(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate down to ``revision`` ("base" removes every table). For development."""
    command.downgrade(alembic_config(url), revision)


def differences(url: str) -> list[Any]:
    """What Alembic's autogenerate sees between the models and the database at ``url``;
    empty when they agree. (Autogenerate does not compare CHECK constraints; the test
    suite compares those separately.)"""
    with _engine(url) as engine, engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": search.include_name}
        )
        found = compare_metadata(context, Base.metadata)
        connection.rollback()
    return list(found)


def next_revision_id() -> str:
    """The next four-digit revision number, e.g. "0003" after "0002"."""
    numbers = [
        int(match.group(1))
        for script in script_directory().walk_revisions()
        if (match := re.fullmatch(r"(\d+)", script.revision))
    ]
    return f"{max(numbers, default=0) + 1:04d}"


def revision(url: str, message: str, autogenerate: bool = True) -> Path:
    """Write a new revision file under models/migrations/versions and return its path.
    With ``autogenerate`` the operations are computed from the difference between the
    models and the database at ``url``, which must be at the head revision. Always read
    and complete the file: see docs/migrations.md."""
    if autogenerate and current(url) != head():
        raise RuntimeError(f"the database is at {current(url)}, not {head()}: upgrade it first")
    script = command.revision(
        alembic_config(url),
        message=message,
        autogenerate=autogenerate,
        rev_id=next_revision_id(),
    )
    assert script is not None and not isinstance(script, list)
    return Path(script.path)
