"""``memoflow db ...``: schema migrations from the command line (Alembic, through the
Flask-free :mod:`models.migrate`). How to write a revision: docs/migrations.md."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from models import migrate


def _database_url() -> str:
    return str(current_app.config["DATABASE_URL"])


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def upgrade_schema() -> None:
    """Bring the application's database to the newest revision (``init-db``, ``demo``)."""
    migrate.upgrade(_database_url())


@click.group("db")
def db_group() -> None:
    """Schema migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade_command(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest)."""
    url = _database_url()
    migrate.upgrade(url, revision)
    click.echo(f"{_shown(url)} is at revision {migrate.current(url)}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade_command(revision: str) -> None:
    """Migrate the database down to REVISION ("base" drops every table). For development."""
    url = _database_url()
    migrate.downgrade(url, revision)
    click.echo(f"{_shown(url)} is at revision {migrate.current(url) or 'base (empty)'}")


@db_group.command("current")
@with_appcontext
def db_current_command() -> None:
    """Print the database's revision and whether it is the newest."""
    url = _database_url()
    at, newest = migrate.current(url), migrate.head()
    if at is None:
        click.echo(f"{_shown(url)}: not migrated (newest is {newest}); run memoflow db upgrade")
    elif at == newest:
        click.echo(f"{at} (head)")
    else:
        click.echo(f"{at} (behind; newest is {newest}; run memoflow db upgrade)")


@db_group.command("check")
@with_appcontext
def db_check_command() -> None:
    """Exit 1 if the models differ from the database (a revision is missing)."""
    found = migrate.differences(_database_url())
    if found:
        click.echo("the models differ from the database; write a revision:", err=True)
        for difference in found:
            click.echo(f"  {difference}", err=True)
        sys.exit(1)
    click.echo("the models and the database agree")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the revision does.")
@click.option(
    "--autogenerate/--empty",
    default=True,
    show_default=True,
    help="Compute the operations from the models (the database must be at head).",
)
@with_appcontext
def db_revision_command(message: str, autogenerate: bool) -> None:
    """Write a new revision under models/migrations/versions (for developers). Read and
    complete it before committing (CHECK constraints, data moves): docs/migrations.md."""
    try:
        path = migrate.revision(_database_url(), message, autogenerate=autogenerate)
    except RuntimeError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    click.echo(f"wrote {path}; review it, then run memoflow db upgrade")
