"""``memoflow acting``: record, list and end authorisations to act for others."""

from __future__ import annotations

import sys
from datetime import date

import click
from flask.cli import with_appcontext

from webapp.api.acting import role_for_step
from webapp.db import db_session, transaction
from workflow import accounts, acting
from workflow.errors import WorkflowError


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _problems(error: WorkflowError) -> str:
    errors = getattr(error, "errors", None)
    if errors:
        return "; ".join(f"{field}: {problem}" for field, problem in errors.items())
    return error.detail or error.code


@click.group("acting")
def acting_group() -> None:
    """Authorisations to act for others (ปฏิบัติราชการแทน, รักษาราชการแทน, รักษาการในตำแหน่ง)."""


@acting_group.command("add")
@click.argument("username")
@click.option("--for", "step", required=True, help="The step key (or role) acted for.")
@click.option(
    "--capacity",
    required=True,
    help="ปฏิบัติราชการแทน, รักษาราชการแทน or รักษาการในตำแหน่ง (as printed).",
)
@click.option("--order", required=True, help="The order it rests on, e.g. 'คำสั่ง ที่ 12/2565'.")
@click.option("--from", "valid_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "valid_to", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--org", default=None)
@with_appcontext
def acting_add_command(
    username: str,
    step: str,
    capacity: str,
    order: str,
    valid_from: date,
    valid_to: date,
    org: str | None,
) -> None:
    """Record that USERNAME acts for a step's role from one day to another (inclusive)."""
    try:
        with transaction() as session:
            organisation = accounts.only_organisation(session, org)
            user = accounts.find_user(session, username)
            if user is None:
                _fail(f"no user {username}")
                return
            authorisation = acting.add_authorisation(
                session,
                None,
                organisation,
                user,
                role_for_step(organisation.route, step),
                capacity,
                order,
                valid_from.date() if hasattr(valid_from, "date") else valid_from,
                valid_to.date() if hasattr(valid_to, "date") else valid_to,
            )
    except WorkflowError as error:
        _fail(_problems(error))
        return
    click.echo(
        f"authorisation {authorisation.id}: {user.full_name} {capacity} ({authorisation.role})"
        f" {authorisation.valid_from} – {authorisation.valid_to}, {order}"
    )


@acting_group.command("list")
@click.option("--org", default=None)
@with_appcontext
def acting_list_command(org: str | None) -> None:
    """List authorisations, newest first."""
    session = db_session()
    organisation = accounts.only_organisation(session, org)
    for a in acting.list_authorisations(session, organisation.id):
        status = acting.status_of(a)
        click.echo(
            f"{a.id}\t{a.acting_user.username}\t{a.role}\t{a.capacity}\t{a.order_ref}\t"
            f"{a.valid_from}\t{a.valid_to}\t{status}"
        )


@acting_group.command("end")
@click.argument("authorisation_id", type=int)
@with_appcontext
def acting_end_command(authorisation_id: int) -> None:
    """End an authorisation now."""
    try:
        with transaction() as session:
            authorisation = acting.end_authorisation(session, None, authorisation_id)
    except WorkflowError as error:
        _fail(_problems(error))
        return
    click.echo(f"authorisation {authorisation.id} ended")
