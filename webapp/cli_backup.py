"""``memoflow backup FILE`` and ``memoflow restore FILE`` (workflow.backup; docs/backup.md).

On SQLite: a consistent copy of the live database, checked (integrity and audit chain),
and the restore of one. On PostgreSQL both commands say how to use pg_dump and
pg_restore instead, and exit with status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from workflow import backup

NOT_SQLITE_EXIT = 2


def _database_url() -> str:
    return str(current_app.config["DATABASE_URL"])


def _report(report: backup.BackupReport, what: str) -> None:
    if report.ok:
        click.echo(f"{what}: {report.path} ({report.size} bytes)")
        click.echo(f"ok: {report.event_count} audit events verified")
    else:
        click.echo(f"{what}: {report.path} ({report.size} bytes)")
        click.echo(f"WARNING: it does not verify: {report.problems[0]}", err=True)
        for problem in report.problems[1:10]:
            click.echo(f"  also: {problem}", err=True)
    for organisation_id, head in sorted(report.head_hashes.items()):
        click.echo(f"head (organisation {organisation_id}): {head}")


def _fail(error: backup.BackupError) -> None:
    if isinstance(error, backup.NotSQLite):
        click.echo(str(error), err=True)
        sys.exit(NOT_SQLITE_EXIT)
    click.echo(f"error: {error}", err=True)
    sys.exit(1)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Write a consistent copy of the (SQLite) database to FILE while memoflow runs, and
    check it; exit 1 if the copy does not verify."""
    try:
        report = backup.backup(_database_url(), file)
    except backup.BackupError as error:
        _fail(error)
        return
    _report(report, "backed up to")
    if not report.ok:
        sys.exit(1)


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Restore even a backup that does not verify.")
@with_appcontext
def restore_command(file: Path, yes: bool, force: bool) -> None:
    """Replace the (SQLite) database with the backup FILE. Stop memoflow first. The backup
    is checked before anything changes; the replaced files are kept beside the database."""
    url = _database_url()
    try:
        database = backup.sqlite_path(url)
    except backup.BackupError as error:
        _fail(error)
        return
    if not yes:
        click.confirm(f"Replace {database} with {file}? memoflow must not be running.", abort=True)
    try:
        report = backup.restore(url, file, force=force)
    except backup.BackupError as error:
        _fail(error)
        return
    for kept in report.kept:
        click.echo(f"kept the replaced file as {kept}")
    _report(report, "restored")
    if not report.ok:
        sys.exit(1)


def register_backup_commands(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
