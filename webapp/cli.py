"""The ``memoflow`` command line: database, demo, serving, users, tokens, routes, audit.

Each command that writes runs in one transaction (``webapp.db.transaction``): committed
when its work is done, before it reports it, or rolled back on error.
"""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from webapp.cli_backup import register_backup_commands
from webapp.cli_db import db_group, upgrade_schema
from webapp.db import database, db_session, transaction
from workflow import accounts, admin, audit, seed
from workflow.errors import WorkflowError
from workflow.route import load_route_file


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _workflow_message(error: WorkflowError) -> str:
    if hasattr(error, "errors"):
        return "; ".join(f"{k}: {v}" for k, v in error.errors.items())
    return error.detail or error.code


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database schema if it does not exist."""
    upgrade_schema()
    click.echo(f"database ready: {database().engine.url.render_as_string(hide_password=True)}")


@click.command("demo")
@click.option("--password", default=None, help="Password for every demo user (default: random).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Only create and seed the database.")
@with_appcontext
def demo_command(password: str | None, host: str, port: int, no_serve: bool) -> None:
    """Seed อบต.ควนขนุน with officer, head, palad, mayor and admin, then serve."""
    upgrade_schema()
    chosen = password or secrets.token_urlsafe(9)
    session = db_session()
    existing = {
        u
        for u in ("officer", "head", "palad", "mayor", "admin")
        if accounts.find_user(session, u) is not None
    }
    try:
        with transaction():
            organisation = seed.seed_organisation(session, chosen)
    except WorkflowError as error:
        _fail(_workflow_message(error))
        return
    click.echo(f"organisation: {organisation.name} (prefix {organisation.number_prefix})")
    for person in seed.SEED_PEOPLE:
        note = " (already there; password unchanged)" if person.username in existing else ""
        click.echo(f"  {person.username:8} {person.full_name} — {person.position}{note}")
    if len(existing) < len(seed.SEED_PEOPLE):
        click.echo(f"password for new users: {chosen}")
    if not no_serve:
        click.echo(f"serving on http://{host}:{port}/")
        from webapp.server import serve

        serve(current_app._get_current_object(), host, port)  # type: ignore[attr-defined]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int, workers: int, threads: int) -> None:
    """Serve with gunicorn (production WSGI server)."""
    from webapp.server import serve

    serve(current_app._get_current_object(), host, port, workers, threads)  # type: ignore[attr-defined]


@click.group("user")
def user_group() -> None:
    """Manage users."""


@user_group.command("add")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name with title.")
@click.option("--position", required=True)
@click.option("--role", required=True, help="officer, admin, or a route step's role.")
@click.option("--unit", default="")
@click.option("--password", default=None)
@click.option("--org", default=None, help="Organisation name (default: the only one).")
@with_appcontext
def user_add_command(
    username: str,
    full_name: str,
    position: str,
    role: str,
    unit: str,
    password: str | None,
    org: str | None,
) -> None:
    """Add a user (asks for the password when --password is not given)."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with transaction() as session:
            organisation = accounts.only_organisation(session, org)
            user = admin.add_user(
                session,
                None,
                organisation,
                username=username,
                full_name=full_name,
                position=position,
                role=role,
                password=password,
                unit=unit,
            )
    except WorkflowError as error:
        _fail(_workflow_message(error))
        return
    click.echo(f"added {user.username} ({user.full_name}, {user.position}, role {user.role})")


@click.group("token")
def token_group() -> None:
    """Manage API tokens."""


@token_group.command("create")
@click.argument("username")
@click.option("--label", default="")
@with_appcontext
def token_create_command(username: str, label: str) -> None:
    """Create an API token; it is printed once, as the last line."""
    with transaction() as session:
        user = accounts.find_user(session, username)
        if user is None or not user.active:
            _fail(f"no active user {username}")
            return
        token = admin.create_token(session, None, user, label)
    click.echo(f"token for {username} (shown once; keep it secret):")
    click.echo(token)


@click.group("audit")
def audit_group() -> None:
    """Verify and export the audit chain."""


@audit_group.command("verify")
@click.option("--head", "head", default=None, help="A head hash recorded earlier.")
@with_appcontext
def audit_verify_command(head: str | None) -> None:
    """Recompute the chain and check every memo against its events (exit 1 on failure)."""
    report = audit.verify(db_session(), expected_head=head)
    if not report.ok:
        click.echo(f"FAILED: {report.problems[0]}", err=True)
        for problem in report.problems[1:20]:
            click.echo(f"  also: {problem}", err=True)
        sys.exit(1)
    click.echo(f"ok: {report.event_count} events verified")
    for organisation_id, head_hash in sorted(report.head_hashes.items()):
        click.echo(f"head (organisation {organisation_id}): {head_hash}")


@audit_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def audit_export_command(file: str) -> None:
    """Write the chain as JSON lines (docs/audit.md; docs/verify_audit_export.py)."""
    count = audit.export_to_path(db_session(), file)
    click.echo(f"exported {count} events to {file}")


@click.group("route")
def route_group() -> None:
    """Show or change an organisation's approval route."""


@route_group.command("show")
@click.option("--org", default=None)
@with_appcontext
def route_show_command(org: str | None) -> None:
    organisation = accounts.only_organisation(db_session(), org)
    click.echo(json.dumps({"steps": organisation.route}, ensure_ascii=False, indent=2))


@route_group.command("set")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--org", default=None)
@with_appcontext
def route_set_command(file: str, org: str | None) -> None:
    """Replace the route with the one in FILE (JSON, see workflow/routes/)."""
    try:
        with transaction() as session:
            organisation = accounts.only_organisation(session, org)
            route = load_route_file(Path(file), organisation.name)
            admin.set_route(session, None, organisation, route)
    except WorkflowError as error:
        _fail(_workflow_message(error))
        return
    click.echo(f"route of {organisation.name}: " + " → ".join(s.title for s in route.steps))


def register(app: Flask) -> None:
    from webapp.cli_acting import acting_group

    app.cli.add_command(acting_group)
    register_backup_commands(app)
    for command in (
        init_db_command,
        demo_command,
        serve_command,
        user_group,
        token_group,
        audit_group,
        route_group,
        db_group,
    ):
        app.cli.add_command(command)


def main() -> None:
    """Entry point of the ``memoflow`` console script: the app's commands, run inside its
    application context."""
    from webapp import create_app

    app = create_app()
    group = click.Group(
        "memoflow",
        commands=app.cli.commands,
        help="memoflow — approval workflow for official memos (บันทึกข้อความ).",
    )
    with app.app_context():
        group.main(prog_name="memoflow")
